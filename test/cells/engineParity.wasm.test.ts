import { engineParitySuite } from '../support/engineParitySuite.js';

engineParitySuite('wasm');
