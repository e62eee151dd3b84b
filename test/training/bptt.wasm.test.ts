import { beforeAll } from 'vitest';
import { initBackend } from '../../src/tensors/backend.js';
import { gradParitySuite } from '../support/tbpttGradSuite.js';

beforeAll(async () => {
  await initBackend('wasm');
});
gradParitySuite('wasm');
