import { beforeAll } from 'vitest';
import { initBackend } from '../../src/tensors/backend.js';
import { trainOnlineTfjsSuite } from '../support/trainOnlineTfjsSuite.js';

beforeAll(async () => {
  await initBackend('cpu');
});
trainOnlineTfjsSuite('cpu');
