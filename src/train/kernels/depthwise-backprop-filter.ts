/**
 * `DepthwiseConv2dNativeBackpropFilter` for the tfjs wasm backend: the gradient of
 * `depthwiseConv2d` with respect to its filter `[kH, kW, inC, multiplier]`.
 *
 * `dW[kh, kw, c, q] = Σ_{n,oh,ow} x[n, oh·sH + kh − padTop, ow·sW + kw − padLeft, c] ·
 * dy[n, oh, ow, c·multiplier + q]`. Each channel is an independent dot product, so there is no
 * matrix product to hand to XNNPACK; direct loops cost `batch · outH · outW · kH · kW · inC ·
 * multiplier` multiply-adds (about 1.5 ns each on a 2020s x86 core: 5 ms for a 1×3 filter over
 * [32, 101, 20, 16]). Sums are accumulated in float64.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, checkDyShape, convGeometry } from './conv-geometry.js';
import { floatView, heapBackend, type KernelArgs, kernelInput } from './heap-backend.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

/**
 * Stride-1 columns, multiplier 1: for each tap and each output row, the input pixels it reads
 * and the row's dy are two contiguous runs of `(owHi − owLo) · C` floats, so the innermost loop
 * is an elementwise multiply-add into `run` (folded into channels once per tap). Four rows per
 * pass quarter the loads and stores of `run`, which bound this loop (≈1 ns per multiply-add).
 */
function accumulateRows(xs: Float32Array, dy: Float32Array, g: ConvGeometry, acc: Float64Array): void {
  const { batch, inH, inW, inC, outH, outW, kH, kW, strideH, padTop, padLeft } = g;
  const run = new Float64Array(outW * inC);
  const xRows = new Int32Array(batch * outH);
  const yRows = new Int32Array(batch * outH);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const owLo = Math.max(0, padLeft - kw);
      const owHi = Math.min(outW, inW + padLeft - kw);
      if (owLo >= owHi) continue;
      const len = (owHi - owLo) * inC;
      let rows = 0;
      for (let n = 0; n < batch; n++) {
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH + kh - padTop;
          if (ih < 0 || ih >= inH) continue;
          xRows[rows] = ((n * inH + ih) * inW + owLo + kw - padLeft) * inC;
          yRows[rows++] = ((n * outH + oh) * outW + owLo) * inC;
        }
      }
      run.fill(0, 0, len);
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const x0 = xRows[r] as number;
        const x1 = xRows[r + 1] as number;
        const x2 = xRows[r + 2] as number;
        const x3 = xRows[r + 3] as number;
        const y0 = yRows[r] as number;
        const y1 = yRows[r + 1] as number;
        const y2 = yRows[r + 2] as number;
        const y3 = yRows[r + 3] as number;
        for (let i = 0; i < len; i++) {
          run[i] =
            (run[i] as number) +
            (xs[x0 + i] as number) * (dy[y0 + i] as number) +
            (xs[x1 + i] as number) * (dy[y1 + i] as number) +
            (xs[x2 + i] as number) * (dy[y2 + i] as number) +
            (xs[x3 + i] as number) * (dy[y3 + i] as number);
        }
      }
      for (; r < rows; r++) {
        const x0 = xRows[r] as number;
        const y0 = yRows[r] as number;
        for (let i = 0; i < len; i++)
          run[i] = (run[i] as number) + (xs[x0 + i] as number) * (dy[y0 + i] as number);
      }
      const base = (kh * kW + kw) * inC;
      for (let i = 0; i < len; i++) {
        const c = base + (i % inC);
        acc[c] = (acc[c] as number) + (run[i] as number);
      }
    }
  }
}

/** Any stride and multiplier: one output pixel at a time, innermost over channels. */
function accumulatePixels(xs: Float32Array, dy: Float32Array, g: ConvGeometry, acc: Float64Array): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const mult = outC / inC;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * strideH + kh - padTop;
        if (ih < 0 || ih >= inH) continue;
        const xRow = (n * inH + ih) * inW;
        for (let ow = 0; ow < outW; ow++) {
          const dyBase = ((n * outH + oh) * outW + ow) * outC;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * strideW + kw - padLeft;
            if (iw < 0 || iw >= inW) continue;
            const xBase = (xRow + iw) * inC;
            const accBase = (kh * kW + kw) * outC;
            for (let c = 0; c < inC; c++) {
              const xv = xs[xBase + c] as number;
              for (let q = 0, o = c * mult; q < mult; q++, o++) {
                acc[accBase + o] = (acc[accBase + o] as number) + xv * (dy[dyBase + o] as number);
              }
            }
          }
        }
      }
    }
  }
}

/** The kernel function: inputs `{x, dy}`, attrs `{strides, pad, dilations, dimRoundingMode, filterShape}`. */
export function depthwiseBackpropFilter({ inputs, attrs = {}, backend }: KernelArgs): tf.TensorInfo {
  const wasm = heapBackend(KERNEL, backend);
  const x = kernelInput(KERNEL, inputs, 'x');
  const dyInfo = kernelInput(KERNEL, inputs, 'dy');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const g = convGeometry(KERNEL, x.shape, filterShape, attrs, true);
  checkDyShape(KERNEL, dyInfo.shape, g);
  const { inC, outC, kH, kW, strideW } = g;
  const acc = new Float64Array(kH * kW * outC);
  const out = wasm.makeOutput([...filterShape], 'float32');
  const xs = floatView(KERNEL, wasm, x);
  const dy = floatView(KERNEL, wasm, dyInfo);
  if (strideW === 1 && outC === inC) accumulateRows(xs, dy, g, acc);
  else accumulatePixels(xs, dy, g, acc);
  // [kH, kW, inC, mult] in memory order is [kH·kW, inC·mult]: the accumulator's layout.
  floatView(KERNEL, wasm, out).set(acc);
  return out;
}

/** Kernel config for `tf.registerKernel`. */
export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
