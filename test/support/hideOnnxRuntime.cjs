// Preload (node --require) that makes onnxruntime-node unloadable in this process, the way a user
// without it (SEQSTREAM_HIDE_ORT=missing) or with a broken native library (=broken) would see it.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^onnxruntime-(node|common)(\/|$)/.test(request)) {
    if (process.env.SEQSTREAM_HIDE_ORT === 'broken') {
      throw new Error('libonnxruntime.so.1: cannot open shared object file: No such file or directory');
    }
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
