/**
 * Gradient kernels that let tfjs train convolutional and embedding models on the wasm backend.
 *
 * `@tensorflow/tfjs-backend-wasm` 4.22 runs inference fast (XNNPACK, SIMD) but lacks the kernels
 * of several gradients, so `tf.grads` / `optimizer.minimize` / `model.fit` throw
 * `Kernel '…' not registered for backend 'wasm'` for any model with a convolution, and its
 * `MaxPoolGrad` is silently wrong when a pooling window holds only negative values.
 * {@link registerWasmTrainingKernels} fills the gaps with kernels that match the cpu backend.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter.js';
import { depthwiseBackpropFilterConfig } from './kernels/depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './kernels/depthwise-backprop-input.js';
import { maxPoolGradConfig } from './kernels/max-pool-grad.js';
import { unsortedSegmentSumConfig } from './kernels/unsorted-segment-sum.js';

/**
 * Marks kernel configs registered by kws-kit. `Symbol.for` so that two copies of kws-kit in one
 * process (an ESM and a CJS build, say) recognise each other's kernels.
 */
const OURS = Symbol.for('kws-kit.wasm-training-kernel');

/** Kernels the wasm backend does not have: added only where nothing is registered yet. */
const MISSING: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/** Kernels the wasm backend has but gets wrong: replaced when present and not already ours. */
const FIXES: readonly tf.KernelConfig[] = [maxPoolGradConfig];

function isOurs(config: tf.KernelConfig | undefined): boolean {
  return config !== undefined && (config as unknown as Record<symbol, unknown>)[OURS] === true;
}

function register(config: tf.KernelConfig): void {
  tf.registerKernel(Object.assign({}, config, { [OURS]: true }));
}

/**
 * Registers, for the tfjs backend named `'wasm'`, the gradient kernels that tfjs 4.22 lacks
 * there, so that convolutional, depthwise-separable (BC-ResNet) and embedding models train on
 * wasm with the same numbers as on cpu (to float32 rounding):
 *
 * - `Conv2DBackpropFilter` (filter gradient of `conv2d`, `conv1d`, `separableConv2d`'s
 *   pointwise part, `fused.conv2d`): an im2col matrix times `dy` on the backend's own XNNPACK
 *   `BatchMatMul`;
 * - `DepthwiseConv2dNativeBackpropInput` and `DepthwiseConv2dNativeBackpropFilter` (both
 *   gradients of `depthwiseConv2d`, any channel multiplier): direct loops over the wasm heap;
 * - `UnsortedSegmentSum` (gradient of `gather`, e.g. embeddings): repeated indices sum;
 * - `MaxPoolGrad`: **replaces** the backend's own kernel, which misplaces or drops the gradient
 *   of windows whose values are all negative. Only done while a non-kws-kit `MaxPoolGrad` is
 *   registered, i.e. once `@tensorflow/tfjs-backend-wasm` has been imported.
 *
 * Supported: NHWC, any strides, `'same'`/`'valid'`/numeric/explicit padding and
 * `dimRoundingMode`, float32. Dilation > 1 and NCHW throw a `KwsError` (`INVALID_ARGUMENT`);
 * tfjs's own conv gradients refuse dilation > 1 on every backend anyway.
 *
 * Explicit and idempotent: nothing is registered at import time, a kernel already registered
 * for `'wasm'` is never overwritten (except the faulty `MaxPoolGrad`), and a second call
 * registers nothing. Safe without the wasm backend package: kernels are keyed by backend name
 * and simply wait in tfjs's registry. Call it once at startup, before training; it works
 * whether or not the wasm backend is already initialised.
 *
 * @returns the names of the kernels this call registered (empty when there was nothing to do).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmTrainingKernels } from 'kws-kit/train';
 *
 * registerWasmTrainingKernels(); // ['Conv2DBackpropFilter', …, 'MaxPoolGrad']
 * await tf.setBackend('wasm');
 * // tf.grads, optimizer.minimize and model.fit now work for conv nets on wasm.
 * ```
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of MISSING) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) continue;
    register(config);
    registered.push(config.kernelName);
  }
  for (const config of FIXES) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing === undefined || isOurs(existing)) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    register(config);
    registered.push(config.kernelName);
  }
  return registered;
}
