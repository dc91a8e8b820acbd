/**
 * `DepthwiseConv2dNativeBackpropInput` for the tfjs wasm backend: the gradient of
 * `depthwiseConv2d` with respect to its input.
 *
 * `dx[n, h, w, c] = Σ dy[n, oh, ow, c·m + q] · W[kh, kw, c, q]` over the taps with
 * `h = oh·sH + kh − padTop`, `w = ow·sW + kw − padLeft`.
 *
 * With stride 1 and channel multiplier 1 (BC-ResNet's depthwise convolutions) that is itself a
 * depthwise convolution of `dy` with the filter flipped in both spatial axes and padding
 * `kH − 1 − padTop` on top (likewise for the other sides), which runs on the backend's own
 * XNNPACK `DepthwiseConv2dNative`, about 4× faster than a JS loop. Other cases scatter each
 * output pixel's `dy` back onto the input pixels its window read, in a loop innermost over
 * contiguous channels (`batch · outH · outW · kH · kW · inC · m` multiply-adds).
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, checkDyShape, convGeometry } from './conv-geometry.js';
import {
  floatView,
  type HeapBackend,
  heapBackend,
  type KernelArgs,
  kernelInput,
  requireFloat32,
} from './heap-backend.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropInput';

/**
 * dx as a stride-1 depthwise convolution of dy with the flipped filter, or `null` when the
 * geometry does not allow it (stride > 1, multiplier > 1, a padding wider than the filter, or no
 * wasm `DepthwiseConv2dNative` kernel).
 */
function viaForwardConv(
  backend: HeapBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
): tf.TensorInfo | null {
  const { inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padTop, padLeft } = g;
  if (strideH !== 1 || strideW !== 1 || outC !== inC) return null;
  const top = kH - 1 - padTop;
  const left = kW - 1 - padLeft;
  // Chosen so that the convolution of dy (outH rows) yields exactly inH rows.
  const bottom = inH - outH + kH - 1 - top;
  const right = inW - outW + kW - 1 - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  const forward = tf.getKernel('DepthwiseConv2dNative', 'wasm');
  if (forward === undefined) return null;
  const flipped = backend.makeOutput([kH, kW, inC, 1], 'float32');
  const src = floatView(KERNEL, backend, filter);
  const dst = floatView(KERNEL, backend, flipped);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const from = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * inC;
      dst.set(src.subarray(from, from + inC), (kh * kW + kw) * inC);
    }
  }
  try {
    return forward.kernelFunc({
      inputs: { x: dy, filter: flipped },
      attrs: {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dilations: [1, 1],
        dataFormat: 'NHWC',
      },
      backend,
    }) as tf.TensorInfo;
  } finally {
    backend.disposeData(flipped.dataId);
  }
}

/** The kernel function: inputs `{dy, filter}`, attrs `{strides, pad, dilations, dimRoundingMode, inputShape}`. */
export function depthwiseBackpropInput({ inputs, attrs = {}, backend }: KernelArgs): tf.TensorInfo {
  const wasm = heapBackend(KERNEL, backend);
  const dyInfo = kernelInput(KERNEL, inputs, 'dy');
  const filter = kernelInput(KERNEL, inputs, 'filter');
  const inputShape = attrs.inputShape as [number, number, number, number];
  const g = convGeometry(KERNEL, inputShape, filter.shape, attrs, true);
  checkDyShape(KERNEL, dyInfo.shape, g);
  requireFloat32(KERNEL, dyInfo, filter);
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const composed = viaForwardConv(wasm, dyInfo, filter, g);
  if (composed !== null) return composed;
  const mult = outC / inC;
  const out = wasm.makeOutput([...inputShape], 'float32');
  const dx = floatView(KERNEL, wasm, out);
  const dy = floatView(KERNEL, wasm, dyInfo);
  const w = floatView(KERNEL, wasm, filter);
  dx.fill(0);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * strideH + kh - padTop;
        if (ih < 0 || ih >= inH) continue;
        const dxRow = (n * inH + ih) * inW;
        for (let ow = 0; ow < outW; ow++) {
          const dyBase = ((n * outH + oh) * outW + ow) * outC;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * strideW + kw - padLeft;
            if (iw < 0 || iw >= inW) continue;
            const dxBase = (dxRow + iw) * inC;
            const wBase = (kh * kW + kw) * outC;
            if (mult === 1) {
              for (let c = 0; c < inC; c++) {
                dx[dxBase + c] =
                  (dx[dxBase + c] as number) + (dy[dyBase + c] as number) * (w[wBase + c] as number);
              }
            } else {
              for (let c = 0; c < inC; c++) {
                let sum = 0;
                for (let q = 0, o = c * mult; q < mult; q++, o++) {
                  sum += (dy[dyBase + o] as number) * (w[wBase + o] as number);
                }
                dx[dxBase + c] = (dx[dxBase + c] as number) + sum;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** Kernel config for `tf.registerKernel`. */
export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
