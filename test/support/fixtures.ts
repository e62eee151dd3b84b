import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** ../shared/fixtures/pytorch beside the checkout (CI has it; users may not). */
export const SHARED_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/pytorch', import.meta.url));
/** The project's own PyTorch fixtures, made by tools/make_fixtures.py. */
export const OWN_FIXTURES = fileURLToPath(new URL('../fixtures/pytorch', import.meta.url));

export const hasShared = existsSync(SHARED_FIXTURES);
if (!hasShared) console.warn(`[seqstream tests] ${SHARED_FIXTURES} is absent: tests on the shared PyTorch fixtures are skipped (the project's own fixtures still run).`);

/** Asserts `|a - ref| <= atol + rtol * |ref|` element-wise with a helpful message. */
export function expectClose(got: ArrayLike<number> | number[], ref: ArrayLike<number> | number[], atol = 1e-5, rtol = 1e-4): void {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != reference length ${ref.length}`);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(got[i] - ref[i]);
    if (!(err <= atol + rtol * Math.abs(ref[i]))) throw new Error(`index ${i}: got ${got[i]}, expected ${ref[i]} (|err| ${err})`);
  }
}
