import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { loadOnnx } from '../cells/onnxImport.js';
import { ModelFormatError } from '../errors.js';
import { checkForwardFixture, DEFAULT_TOLERANCE, type CheckResult, type ForwardFixture, type Tolerance } from './verifyForward.js';
import { fixtureFiles, type FixtureFile } from './fixtureFiles.js';
import { verifyTbpttFixture } from './verifyTbptt.js';

/** Kind of a fixture file, told apart by content as the schema says. */
export type FixtureKind = 'forward' | 'chunks' | 'tbptt' | 'onnx' | 'unknown';

/** One line of the verify report. */
export interface VerifyLine {
  file: string;
  case: string;
  kind: FixtureKind;
  status: 'pass' | 'fail' | 'skip';
  maxAbsError: number | null;
  checked: string[];
  /** Why it failed or was skipped. */
  reason?: string;
}

/** Options of {@link verifyFixtures}. */
export interface VerifyOptions {
  /** Engines to check. Default both `fused` and `tfjs`. */
  engines?: ReadonlyArray<'fused' | 'tfjs'>;
  /** Default `{ atol: 1e-5, rtol: 1e-4 }`. */
  tolerance?: Tolerance;
  /** Called with each line as soon as its file is done. */
  onLine?: (line: VerifyLine) => void;
}

/** Tells fixture kinds apart by content: `windows` is TBPTT, `chunks` stream-chunk, `onnx` (a model file next to it) ONNX import, `x`+`output` forward. */
export function fixtureKind(fx: unknown): FixtureKind {
  if (!fx || typeof fx !== 'object') return 'unknown';
  if ('onnx' in fx && 'x' in fx && 'output' in fx) return 'onnx';
  if ('windows' in fx) return 'tbptt';
  if ('chunks' in fx) return 'chunks';
  if ('x' in fx && 'output' in fx && 'params' in fx) return 'forward';
  return 'unknown';
}

/**
 * Checks PyTorch reference fixture files (or folders of them) against seqstream's cells and
 * operators, one {@link VerifyLine} per file.
 *
 * @example
 * ```ts
 * const lines = verifyFixtures(['../shared/fixtures/pytorch']);
 * lines.every((l) => l.status !== 'fail');
 * ```
 */
export function verifyFixtures(paths: readonly string[], options: VerifyOptions = {}): VerifyLine[] {
  const engines = options.engines ?? ['fused', 'tfjs'];
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  const lines: VerifyLine[] = [];
  for (const file of fixtureFiles(paths)) {
    const line = verifyFile(file, engines, tol);
    lines.push(line);
    options.onLine?.(line);
  }
  return lines;
}

function verifyFile(entry: FixtureFile, engines: ReadonlyArray<'fused' | 'tfjs'>, tol: Tolerance): VerifyLine {
  const file = entry.path;
  const fallbackCase = basename(file).replace(/\.json$/, '');
  const failed = (reason: string, kind: FixtureKind = 'unknown', name = fallbackCase): VerifyLine => ({ file, case: name, kind, status: 'fail', maxAbsError: null, checked: [], reason });
  if (entry.error) return failed(`cannot read: ${entry.error}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return failed(`cannot read JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return failed(`SEQ_FIXTURE_FORMAT: a fixture is a JSON object, this file holds ${Array.isArray(parsed) ? 'an array' : String(parsed === null ? 'null' : typeof parsed)}`);
  }
  const fx = parsed as Record<string, unknown>;
  const kind = fixtureKind(fx);
  const name = typeof fx.case === 'string' ? fx.case : fallbackCase;
  if (kind === 'unknown') {
    const reason = 'not a fixture of the PyTorch schema (no x/output/params, chunks or windows)';
    // Named on the command line, it was meant to be checked: that is a failure. Found in a folder, it is skipped.
    return entry.explicit ? failed(`SEQ_FIXTURE_FORMAT: ${reason}`, kind, name) : { file, case: name, kind, status: 'skip', maxAbsError: null, checked: [], reason };
  }
  let result: CheckResult;
  try {
    if (kind === 'tbptt') result = checkTbptt(fx, engines, tol);
    else if (kind === 'onnx') result = checkForwardFixture(fx as unknown as ForwardFixture, engines, tol, loadOnnxBeside(file, fx.onnx));
    else result = checkForwardFixture(fx as unknown as ForwardFixture, engines, tol);
  } catch (err) {
    const e = err as Error & { code?: string };
    return { file, case: name, kind, status: 'fail', maxAbsError: null, checked: [], reason: `${e.code ?? e.name}: ${e.message}` };
  }
  return {
    file,
    case: name,
    kind,
    status: result.passed ? 'pass' : 'fail',
    maxAbsError: result.maxAbsError,
    checked: result.checked,
    reason: result.failures.length ? result.failures.slice(0, 3).join('; ') : undefined,
  };
}

/** One report line: `PASS  lstm_l1_forward  max_abs_err 2.58e-8  [whole:fused events:fused ...]`. */
export function formatVerifyLine(line: VerifyLine): string {
  const status = line.status.toUpperCase().padEnd(4);
  const err = line.maxAbsError === null ? '-' : line.maxAbsError.toExponential(2);
  const detail = line.status === 'pass' ? `[${line.checked.join(' ')}]` : line.reason ?? '';
  return `${status}  ${line.case.padEnd(32)}  ${line.kind.padEnd(7)}  max_abs_err ${err.padEnd(9)}  ${detail}`;
}

/** The closing line: `N passed, M failed` (and `, K skipped`). */
export function formatVerifySummary(lines: readonly VerifyLine[]): string {
  const count = (s: VerifyLine['status']) => lines.filter((l) => l.status === s).length;
  const skipped = count('skip');
  return `${count('pass')} passed, ${count('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

/** Runs the TBPTT check once per engine and merges the results (checked items are tagged `:engine`). */
function checkTbptt(fx: unknown, engines: ReadonlyArray<'fused' | 'tfjs'>, tol: Tolerance): CheckResult {
  const merged: CheckResult = { maxAbsError: 0, passed: true, checked: [], failures: [] };
  for (const engine of engines) {
    const r = verifyTbpttFixture(fx, { engine, atol: tol.atol, rtol: tol.rtol });
    merged.maxAbsError = Math.max(merged.maxAbsError, r.maxAbsError);
    merged.passed &&= r.passed;
    merged.checked.push(...r.checked.map((c) => `${c.split(' ')[0]}:${engine}`));
    merged.failures.push(...r.failures.map((f) => `${engine}: ${f}`));
  }
  return merged;
}

/** The ONNX model an `onnx` fixture names, read from beside the fixture file. */
function loadOnnxBeside(fixtureFile: string, name: unknown) {
  if (typeof name !== 'string' || name === '') throw new ModelFormatError('SEQ_FIXTURE_FORMAT', "Fixture field 'onnx' must name the .onnx file next to it", { field: 'onnx' });
  const path = isAbsolute(name) ? name : join(dirname(fixtureFile), name);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelFormatError('SEQ_FIXTURE_FORMAT', `Cannot read the fixture's ONNX model ${path}: ${(e as Error).message}`, { path });
  }
  return loadOnnx(bytes);
}
