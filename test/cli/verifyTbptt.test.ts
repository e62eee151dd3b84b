import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyTbpttFixture } from '../../src/cli/verifyTbptt.js';
import { verifyTbpttSuite } from '../support/verifyTbpttSuite.js';

verifyTbpttSuite('fused'); // WebAssembly SIMD kernel
verifyTbpttSuite('fused', 'js'); // JavaScript loops

const own = new URL('../fixtures/pytorch/lstm_tbptt_sgd.json', import.meta.url).pathname;

describe('verifyTbpttFixture catches wrong math', () => {
  it('fails when one gradient of the reference is off by 1e-3', () => {
    const fx = JSON.parse(readFileSync(own, 'utf8'));
    fx.windows[1].grads.weight_hh_l0[2][3] += 1e-3;
    const r = verifyTbpttFixture(fx, { engine: 'fused' });
    expect(r.passed).toBe(false);
    expect(r.failures[0]).toContain('windows[1].grads.weight_hh_l0');
  });

  it('fails when the truncation is different (k2 changed)', () => {
    const fx = JSON.parse(readFileSync(own, 'utf8'));
    fx.config.tbptt_k2 = 8;
    expect(verifyTbpttFixture(fx, { engine: 'fused' }).passed).toBe(false);
  });

  it('rejects what is not a TBPTT fixture and bad options with stable codes', () => {
    expect(() => verifyTbpttFixture({ x: [] }, { engine: 'fused' })).toThrow(expect.objectContaining({ code: 'SEQ_FIXTURE_FORMAT' }));
    const fx = JSON.parse(readFileSync(own, 'utf8'));
    expect(() => verifyTbpttFixture(fx, { engine: 'gpu' as 'fused' })).toThrow(expect.objectContaining({ code: 'SEQ_INVALID_OPTION' }));
  });
});
