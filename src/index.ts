export * from './cells/index.js';
export * from './kernels/index.js';
export * from './training/index.js';
export * from './text/index.js';
export * from './streams/index.js';
export * from './detection/index.js';
export { SeqstreamError, InvalidInputError, InvalidOptionError, ModelFormatError, type ErrorCallback } from './errors.js';
// The tensor room's typed API (tf.Tensor in its signatures) is `seqstream/tensors`; the root
// re-exports only what needs no TensorFlow.js types, so its .d.ts stays free of them.
export { initBackend, currentBackend, availableBackends, type BackendName } from './tensors/backend.js';
export { loadTfjs, isTfjsLoaded } from './tensors/loadTfjs.js';
export { errorCodes, isErrorCode, type ErrorCode, type ErrorCodeInfo } from './errorCodes.js';
