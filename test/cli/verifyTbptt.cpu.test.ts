import { beforeAll } from 'vitest';
import { initBackend } from '../../src/tensors/backend.js';
import { verifyTbpttSuite } from '../support/verifyTbpttSuite.js';

beforeAll(async () => {
  await initBackend('cpu');
});
verifyTbpttSuite('tfjs');
