const compiled = new Map<string, WebAssembly.Module | null>();

/**
 * Compiles a base64-embedded WebAssembly kernel (`gatesKernel.wasm.ts`, `trainKernel.wasm.ts`)
 * once per process, or returns `null` when this runtime cannot (no WebAssembly, no SIMD128, or a
 * browser main thread, which refuses synchronous compilation of modules over 4 KB); callers then
 * run their JavaScript loops. Dependency-free, so the step worker can use it too.
 *
 * @example
 * ```ts
 * import { gatesKernelBase64 } from './gatesKernel.wasm.js';
 * const module = kernelModule(gatesKernelBase64);
 * if (!module) console.warn('no WebAssembly SIMD: using the JavaScript loops');
 * ```
 */
export function kernelModule(base64: string): WebAssembly.Module | null {
  let module = compiled.get(base64);
  if (module !== undefined) return module;
  try {
    module = new WebAssembly.Module(decodeBase64(base64));
  } catch {
    module = null;
  }
  compiled.set(base64, module);
  return module;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
