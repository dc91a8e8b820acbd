/**
 * `kws-kit/train`: what training needs beyond tfjs itself. For now, the gradient kernels that
 * make the tfjs wasm backend able to train convolutional models ({@link registerWasmTrainingKernels}).
 *
 * @packageDocumentation
 */
export { registerWasmTrainingKernels } from './wasm-kernels.js';
