export * from './cells/index.js';
export * from './kernels/index.js';
export * from './training/index.js';
export * from './text/index.js';
export * from './streams/index.js';
export * from './detection/index.js';
export { SeqstreamError, InvalidInputError, InvalidOptionError, ModelFormatError } from './errors.js';
export { initBackend, currentBackend, availableBackends, type BackendName } from './backend.js';
export { errorCodes, isErrorCode, type ErrorCode, type ErrorCodeInfo } from './errorCodes.js';
