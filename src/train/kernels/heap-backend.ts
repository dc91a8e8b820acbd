/**
 * The few methods of the tfjs wasm backend (`BackendWasm` in `@tensorflow/tfjs-backend-wasm`)
 * that kws-kit's gradient kernels use, typed structurally so that kws-kit never imports the
 * wasm package (it stays an optional backend).
 *
 * Tensor data on that backend lives in the wasm heap; `typedArrayFromHeap` returns a view on it
 * without copying. A view is invalidated when the heap grows, and the heap can grow on every
 * allocation (`makeOutput`, or any kernel run from inside ours), so kernels take their views only
 * after their last allocation.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';

/** Typed array over tensor data: Float32Array, Int32Array or Uint8Array (bool). */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The part of the wasm backend our kernels need. */
export interface HeapBackend {
  /** Allocates an uninitialised tensor on the heap (refCount 1). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view on a tensor's heap memory (no copy). */
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
  /** Decrements the refCount and frees the memory at zero. */
  disposeData(dataId: tf.DataId): boolean;
}

/** Arguments tfjs passes to a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: unknown;
}

/** Narrows the backend a kernel received; throws `INVALID_ARGUMENT` if it is not heap-backed. */
export function heapBackend(kernel: string, backend: unknown): HeapBackend {
  const b = backend as Partial<HeapBackend> | null;
  if (
    b == null ||
    typeof b.makeOutput !== 'function' ||
    typeof b.typedArrayFromHeap !== 'function' ||
    typeof b.disposeData !== 'function'
  ) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `kws-kit's ${kernel} kernel runs only on the tfjs wasm backend (it needs makeOutput and typedArrayFromHeap)`,
    );
  }
  return b as HeapBackend;
}

/** The named input of a kernel call; throws `INVALID_ARGUMENT` if tfjs did not pass it. */
export function kernelInput(kernel: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const info = inputs[name];
  if (info === undefined) {
    throw new KwsError('INVALID_ARGUMENT', `${kernel}: missing input '${name}'`);
  }
  return info;
}

/** A float32 view of a tensor's heap memory; throws `INVALID_ARGUMENT` for another dtype. */
export function floatView(kernel: string, backend: HeapBackend, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') {
    throw new KwsError('INVALID_ARGUMENT', `${kernel} needs float32 tensors; got ${info.dtype}`);
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Throws `INVALID_ARGUMENT` unless every tensor is float32 (all our float kernels support). */
export function requireFloat32(kernel: string, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) {
    if (info.dtype !== 'float32') {
      throw new KwsError('INVALID_ARGUMENT', `${kernel} needs float32 tensors; got ${info.dtype}`);
    }
  }
}
