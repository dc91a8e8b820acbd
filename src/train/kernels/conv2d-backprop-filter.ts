/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend: the gradient of `conv2d` with respect to its
 * filter, which tfjs 4.22's wasm backend lacks.
 *
 * With `P = batch · outH · outW` output pixels and `K = kH · kW · inC` filter taps,
 * `dW[k, co] = Σ_p X[k, p] · dy[p, co]`, where `X` is the transposed im2col matrix
 * (`X[(kh,kw,ci), (n,oh,ow)] = x[n, oh·sH + kh − padTop, ow·sW + kw − padLeft, ci]`, zero in the
 * padding). The product runs on the backend's own `BatchMatMul` (XNNPACK): building `X` in the
 * transposed layout matters, because that kernel is about 10× slower with `transposeA`.
 * Batches whose `X` would exceed {@link MAX_PATCH_FLOATS} are split by image and summed.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../../errors.js';
import { type ConvGeometry, checkDyShape, convGeometry } from './conv-geometry.js';
import {
  floatView,
  type HeapBackend,
  heapBackend,
  type KernelArgs,
  kernelInput,
  requireFloat32,
} from './heap-backend.js';

const KERNEL = 'Conv2DBackpropFilter';

/** Largest im2col matrix built at once (floats; 4 Mi floats = 16 MiB of wasm heap). */
export const MAX_PATCH_FLOATS = 1 << 22;

/**
 * Writes the transposed im2col matrix of images `[n0, n0 + count)` into `out` (`[K, P]`,
 * row-major, `P = count · outH · outW`). Row-major writes keep the inner loop contiguous.
 */
function im2colTransposed(
  x: Float32Array,
  g: ConvGeometry,
  n0: number,
  count: number,
  out: Float32Array,
): void {
  const { inH, inW, inC, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const cols = count * outH * outW;
  let row = 0;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      // Output columns whose input column lies inside the image: ow in [owLo, owHi).
      const owLo = Math.max(0, Math.ceil((padLeft - kw) / strideW));
      const owHi = Math.min(outW, Math.floor((inW - 1 + padLeft - kw) / strideW) + 1);
      for (let ci = 0; ci < inC; ci++, row++) {
        let o = row * cols;
        for (let n = n0; n < n0 + count; n++) {
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * strideH + kh - padTop;
            if (ih < 0 || ih >= inH || owLo >= owHi) {
              out.fill(0, o, o + outW);
              o += outW;
              continue;
            }
            if (owLo > 0) out.fill(0, o, o + owLo);
            let src = ((n * inH + ih) * inW + owLo * strideW + kw - padLeft) * inC + ci;
            const step = strideW * inC;
            for (let ow = owLo; ow < owHi; ow++, src += step) out[o + ow] = x[src] as number;
            if (owHi < outW) out.fill(0, o + owHi, o + outW);
            o += outW;
          }
        }
      }
    }
  }
}

function batchMatMul(backend: HeapBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (kernel === undefined) {
    throw new KwsError('NOT_FOUND', `${KERNEL}: the wasm backend's BatchMatMul kernel is not registered`);
  }
  return kernel.kernelFunc({
    inputs: { a, b },
    attrs: { transposeA: false, transposeB: false },
    backend,
  }) as tf.TensorInfo;
}

/** `X · dy` for images `[n0, n0 + count)`: `[1, K, outC]`, a new heap tensor. */
function chunkProduct(
  wasm: HeapBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
  n0: number,
  count: number,
): tf.TensorInfo {
  const k = g.kH * g.kW * g.inC;
  const cols = count * g.outH * g.outW;
  const temporaries: tf.TensorInfo[] = [];
  try {
    const patches = wasm.makeOutput([k, cols], 'float32');
    temporaries.push(patches);
    // A dy chunk needs its own tensor unless it is the whole of dy.
    let b: tf.TensorInfo = { dataId: dy.dataId, shape: [cols, g.outC], dtype: 'float32' };
    if (count !== g.batch) {
      b = wasm.makeOutput([cols, g.outC], 'float32');
      temporaries.push(b);
      const from = n0 * g.outH * g.outW * g.outC;
      floatView(KERNEL, wasm, b).set(floatView(KERNEL, wasm, dy).subarray(from, from + cols * g.outC));
    }
    im2colTransposed(floatView(KERNEL, wasm, x), g, n0, count, floatView(KERNEL, wasm, patches));
    return batchMatMul(wasm, patches, b);
  } finally {
    for (const t of temporaries) wasm.disposeData(t.dataId);
  }
}

/** The kernel function: inputs `{x, dy}`, attrs `{strides, pad, dataFormat, dimRoundingMode, filterShape}`. */
export function conv2dBackpropFilter({ inputs, attrs = {}, backend }: KernelArgs): tf.TensorInfo {
  const wasm = heapBackend(KERNEL, backend);
  const x = kernelInput(KERNEL, inputs, 'x');
  const dy = kernelInput(KERNEL, inputs, 'dy');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const g = convGeometry(KERNEL, x.shape, filterShape, attrs, false);
  checkDyShape(KERNEL, dy.shape, g);
  requireFloat32(KERNEL, x, dy);
  const k = g.kH * g.kW * g.inC;
  const pixels = g.outH * g.outW;
  if (k * pixels * g.batch === 0 || g.outC === 0) {
    const empty = wasm.makeOutput(filterShape, 'float32');
    floatView(KERNEL, wasm, empty).fill(0);
    return empty;
  }
  const perChunk = Math.max(1, Math.floor(MAX_PATCH_FLOATS / (k * pixels)));
  let result: tf.TensorInfo | undefined;
  try {
    for (let n0 = 0; n0 < g.batch; n0 += perChunk) {
      const product = chunkProduct(wasm, x, dy, g, n0, Math.min(perChunk, g.batch - n0));
      if (result === undefined) {
        result = product;
      } else {
        const acc = floatView(KERNEL, wasm, result);
        const add = floatView(KERNEL, wasm, product);
        for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (add[i] as number);
        wasm.disposeData(product.dataId);
      }
    }
  } catch (error) {
    if (result !== undefined) wasm.disposeData(result.dataId);
    throw error;
  }
  // BatchMatMul returned [1, K, outC], which is the filter [kH, kW, inC, outC] in memory order.
  const out = result as tf.TensorInfo;
  return { dataId: out.dataId, shape: [...filterShape], dtype: 'float32' };
}

/** Kernel config for `tf.registerKernel`. */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
