import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCodes, isErrorCode } from '../src/errorCodes.js';
import * as seqstream from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const catalogueFile = join(root, 'src', 'errorCodes.ts');
const thisFile = fileURLToPath(import.meta.url);
// A whole code: `SEQ_INPUT_*` or `SEQ_WS_...` in prose are families, not codes, and do not match.
const CODE = /\bSEQ_[A-Z0-9]+(?:_[A-Z0-9]+)*\b(?![_*.])/g;
// `code.startsWith('SEQ_PARAM')` names a family of codes on purpose.
const PREFIX = /startsWith\(\s*['"`](SEQ_[A-Z0-9_]+)['"`]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|c)$/.test(name) ? [path] : [];
  });
}

/** Every code written in the files under `dir` (except the catalogue), with where it occurs. */
function codesUsedIn(dir: string): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    if (file === catalogueFile || file === thisFile) continue;
    const text = readFileSync(file, 'utf8').replace(PREFIX, '');
    for (const [code] of text.matchAll(CODE)) {
      const where = used.get(code) ?? [];
      where.push(relative(root, file));
      used.set(code, where);
    }
  }
  return used;
}

function prefixesUsedIn(dir: string): string[] {
  return sourceFiles(dir).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(PREFIX)].map((m) => m[1]!));
}

describe('errorCodes catalogue', () => {
  const catalogued = Object.keys(errorCodes);
  const usedInSrc = codesUsedIn(join(root, 'src'));

  it('lists every SEQ_* code used in src', () => {
    const missing = [...usedInSrc].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
    expect(missing, 'add these to src/errorCodes.ts').toEqual([]);
  });

  it('lists no code that src no longer uses', () => {
    expect(catalogued.filter((code) => !usedInSrc.has(code)), 'remove these from src/errorCodes.ts').toEqual([]);
  });

  it('lists every code the tests assert', () => {
    const unknown = [...codesUsedIn(join(root, 'test'))].filter(([code]) => !isErrorCode(code)).map(([code]) => code);
    expect(unknown).toEqual([]);
  });

  it('has a catalogued code for every code family src matches by prefix', () => {
    const prefixes = prefixesUsedIn(join(root, 'src'));
    expect(prefixes.length).toBeGreaterThan(0);
    for (const prefix of prefixes) expect(catalogued.some((code) => code.startsWith(prefix)), prefix).toBe(true);
  });

  it('says what each code means and what raises it', () => {
    for (const code of catalogued) {
      const info = errorCodes[code as keyof typeof errorCodes];
      expect(code).toMatch(/^SEQ_[A-Z0-9]+(_[A-Z0-9]+)*$/);
      expect(info.meaning, code).toMatch(/^[A-Z'"].{10,}\.$/s);
      expect(info.raisedBy.length, code).toBeGreaterThan(3);
    }
  });

  it('is exported from the package root with isErrorCode', () => {
    expect(seqstream.errorCodes).toBe(errorCodes);
    expect(seqstream.isErrorCode('SEQ_INPUT_SHAPE')).toBe(true);
    expect(seqstream.isErrorCode('SEQ_NO_SUCH_CODE')).toBe(false);
    expect(seqstream.isErrorCode('toString')).toBe(false);
    expect(seqstream.isErrorCode(42)).toBe(false);
  });

  it('matches the codes errors carry at run time', () => {
    let code: unknown;
    try {
      seqstream.validateInput([1, 2], 3);
    } catch (e) {
      code = (e as seqstream.SeqstreamError).code;
    }
    expect(code).toBe('SEQ_INPUT_SHAPE');
    expect(isErrorCode(code)).toBe(true);
  });
});
