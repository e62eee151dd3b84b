import { createRequire } from 'node:module';
import { SeqstreamError } from '../../errors.js';

const require = createRequire(import.meta.url);

/**
 * Loads an optional peer dependency (meyda, wavefile, ws, mqtt ...) synchronously, only when an
 * adapter that needs it is used, so `seqstream` itself never pulls it in.
 * Throws `SEQ_DEPENDENCY_MISSING` naming the package to install when it is absent.
 */
export function requireOptional<T>(name: string, usedBy: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new SeqstreamError(
        'SEQ_DEPENDENCY_MISSING',
        `${usedBy} needs the optional package '${name}': run \`npm install ${name}\``,
        { package: name, usedBy },
      );
    }
    throw err;
  }
}
