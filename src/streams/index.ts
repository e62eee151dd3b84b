export { standardize, StandardizeControl, type StandardizeOptions, type StandardizeSnapshot, type StandardizeKeyState, type StandardizeInput, type Standardized } from './standardize.js';
