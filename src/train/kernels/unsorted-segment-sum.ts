/**
 * `UnsortedSegmentSum` for the tfjs wasm backend: `out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]`,
 * the kernel behind `tf.unsortedSegmentSum` and the gradient of `tf.gather` (repeated indices
 * sum their gradients), which tfjs 4.22's wasm backend lacks.
 *
 * Ids outside `[0, numSegments)` are dropped, as on the cpu backend. `segmentIds` must be 1-D with
 * one id per row of `x` (all tfjs's gather gradient passes); output `[numSegments, ...x.shape[1:]]`
 * with the dtype of `x`.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';
import { heapBackend, type KernelArgs, kernelInput } from './heap-backend.js';

const KERNEL = 'UnsortedSegmentSum';

/** The kernel function: inputs `{x, segmentIds}`, attrs `{numSegments}`. */
export function unsortedSegmentSum({ inputs, attrs = {}, backend }: KernelArgs): tf.TensorInfo {
  const wasm = heapBackend(KERNEL, backend);
  const x = kernelInput(KERNEL, inputs, 'x');
  const ids = kernelInput(KERNEL, inputs, 'segmentIds');
  const numSegments = attrs.numSegments;
  if (typeof numSegments !== 'number' || !Number.isInteger(numSegments) || numSegments < 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${KERNEL}: numSegments must be an integer >= 0; got ${String(numSegments)}`,
    );
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new KwsError('INVALID_ARGUMENT', `${KERNEL}: x must be float32 or int32; got ${x.dtype}`);
  }
  if (ids.dtype !== 'int32') {
    throw new KwsError('INVALID_ARGUMENT', `${KERNEL}: segmentIds must be int32; got ${ids.dtype}`);
  }
  if (x.shape.length < 1 || ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) {
    throw new KwsError(
      'SHAPE_MISMATCH',
      `${KERNEL}: segmentIds must be 1-D with one id per row of x; got ids [${ids.shape.join(',')}] for x [${x.shape.join(',')}]`,
    );
  }
  const rows = x.shape[0] as number;
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const outShape = [numSegments, ...x.shape.slice(1)];
  const out = wasm.makeOutput(outShape, x.dtype);
  const dst = wasm.typedArrayFromHeap(out);
  const src = wasm.typedArrayFromHeap(x);
  const seg = wasm.typedArrayFromHeap(ids);
  dst.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = seg[r] as number;
    if (s < 0 || s >= numSegments) continue;
    const to = s * inner;
    const from = r * inner;
    for (let i = 0; i < inner; i++) dst[to + i] = (dst[to + i] as number) + (src[from + i] as number);
  }
  return out;
}

/** Kernel config for `tf.registerKernel`. */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
