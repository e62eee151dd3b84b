import { describe, expect, it } from 'vitest';
import { requireOptional } from '../../../src/adapters/internal/requireOptional.js';

describe('requireOptional', () => {
  it('loads an installed package and names the missing one with SEQ_DEPENDENCY_MISSING', () => {
    expect(typeof requireOptional<{ extract: unknown }>('meyda', 'test').extract).toBe('function');
    expect(() => requireOptional('seqstream-no-such-package', 'the audio adapters')).toThrow(
      expect.objectContaining({ code: 'SEQ_DEPENDENCY_MISSING', message: expect.stringContaining('npm install seqstream-no-such-package') }),
    );
  });
});
