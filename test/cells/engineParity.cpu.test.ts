import { engineParitySuite } from '../support/engineParitySuite.js';

engineParitySuite('cpu');
