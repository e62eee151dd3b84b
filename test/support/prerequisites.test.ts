import { describe, expect, it } from 'vitest';
import { ciPrerequisite, torchPythonFor } from './prerequisites.js';

describe('prerequisites that .ci/run installs', () => {
  it('fail under CI=true instead of skipping, and skip visibly elsewhere', () => {
    expect(() => ciPrerequisite(false, 'some test', 'clang is missing', { CI: 'true' })).toThrow(/some test: CI=true but clang is missing/);
    expect(ciPrerequisite(false, 'some test', 'clang is missing', {})).toBe(false);
    expect(ciPrerequisite(true, 'some test', 'clang is missing', { CI: 'true' })).toBe(true);
  });

  it('a Python without torch is a failure under CI=true, a skip elsewhere', () => {
    const env = { SEQSTREAM_PYTHON: '/nonexistent/python3' };
    expect(() => torchPythonFor('parity', { ...env, CI: 'true' })).toThrow(/no Python with PyTorch/);
    expect(torchPythonFor('parity', env)).toBeNull();
  });
});
