/**
 * kws-kit: keyword-spotting building blocks on TensorFlow.js.
 *
 * The root entry re-exports every area's public surface; each area is also its own entry point
 * (`kws-kit/features`, `kws-kit/models`, …) for smaller bundles.
 *
 * @packageDocumentation
 */

export * from './distill/index.js';
export { KwsError, type KwsErrorCode, WavDecodeError } from './errors.js';
export * from './features/index.js';
export * from './models/index.js';
export * from './quantize/index.js';
export { createRng, Rng, type RngState } from './random.js';
export * from './streaming/index.js';
