/**
 * JS-side wrapper types that keep Python/MATLAB blob content lossless where a plain JS value
 * would lose information (see docs/blob-mapping.md for the full mapping and the reasons):
 * Python values (python.ts), dates and times (time.ts), MATLAB and record arrays (matlab.ts).
 */
export { Complex } from './ndarray.js';
export * from './python.js';
export * from './time.js';
export * from './matlab.js';
