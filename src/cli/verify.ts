import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { checkForwardFixture, DEFAULT_TOLERANCE, type CheckResult, type ForwardFixture, type Tolerance } from './verifyForward.js';
import { fixtureFiles, type FixtureFile } from './fixtureFiles.js';
import { verifyTbpttFixture } from './verifyTbptt.js';

/** Kind of a fixture file, told apart by content as the schema says. */
export type FixtureKind = 'forward' | 'chunks' | 'tbptt' | 'unknown';

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

/** Tells fixture kinds apart by content: `windows` is TBPTT, `chunks` stream-chunk, `x`+`output` forward. */
export function fixtureKind(fx: unknown): FixtureKind {
  if (!fx || typeof fx !== 'object') return 'unknown';
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
    result = kind === 'tbptt' ? checkTbptt(fx, engines, tol) : checkForwardFixture(fx as unknown as ForwardFixture, engines, tol);
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
