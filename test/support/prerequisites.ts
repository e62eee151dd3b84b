import { findTorchPython } from '../tools/fixtureSchema.js';

/**
 * A prerequisite that `.ci/run` installs (PyTorch, clang, lld ...). When it is missing: under
 * `CI=true` this throws, so the test file fails instead of skipping and passing without having
 * checked anything; elsewhere it prints a visible `[skip]` line with the reason and the install hint.
 * Returns whether the prerequisite is present.
 */
export function ciPrerequisite(present: boolean, who: string, missing: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (present) return true;
  if (env.CI === 'true') throw new Error(`${who}: CI=true but ${missing} (.ci/run installs it)`);
  console.warn(`[skip] ${who}: ${missing}`);
  return false;
}

/**
 * The first Python that imports torch (`SEQSTREAM_PYTHON`, else `python3`, `/usr/bin/python3`,
 * `python`), or null with a visible skip — or a thrown error under `CI=true`.
 */
export function torchPythonFor(who: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const python = findTorchPython(env);
  ciPrerequisite(python !== null, who, 'no Python with PyTorch (apt-get install python3-torch, or set SEQSTREAM_PYTHON)', env);
  return python;
}
