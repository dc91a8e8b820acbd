/**
 * `MaxPoolGrad` for the tfjs wasm backend. tfjs 4.22's own wasm kernel is silently wrong when
 * every value of a pooling window is negative (the gradient is misplaced or dropped), so kws-kit
 * replaces it with this one.
 *
 * Each output pixel's `dy` goes to the input pixel that was its window's maximum: the first
 * strictly greatest value in row-major window order, padding excluded, the same rule as the cpu
 * backend (so ties and NaN resolve identically). Pixels that are the maximum of several
 * overlapping windows receive the sum.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import { checkDyShape, poolGeometry } from './conv-geometry.js';
import { floatView, heapBackend, type KernelArgs, kernelInput } from './heap-backend.js';

const KERNEL = 'MaxPoolGrad';

/** The kernel function: inputs `{dy, input, output}`, attrs `{filterSize, strides, pad, dimRoundingMode}`. */
export function maxPoolGrad({ inputs, attrs = {}, backend }: KernelArgs): tf.TensorInfo {
  const wasm = heapBackend(KERNEL, backend);
  const dyInfo = kernelInput(KERNEL, inputs, 'dy');
  const input = kernelInput(KERNEL, inputs, 'input');
  const g = poolGeometry(KERNEL, input.shape, attrs);
  checkDyShape(KERNEL, dyInfo.shape, g);
  const { batch, inH, inW, inC: channels, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const out = wasm.makeOutput([...input.shape], 'float32');
  const dx = floatView(KERNEL, wasm, out);
  const x = floatView(KERNEL, wasm, input);
  const dy = floatView(KERNEL, wasm, dyInfo);
  dx.fill(0);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      const h0 = Math.max(0, oh * strideH - padTop);
      const h1 = Math.min(inH, oh * strideH - padTop + kH);
      for (let ow = 0; ow < outW; ow++) {
        const w0 = Math.max(0, ow * strideW - padLeft);
        const w1 = Math.min(inW, ow * strideW - padLeft + kW);
        const dyBase = ((n * outH + oh) * outW + ow) * channels;
        for (let c = 0; c < channels; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let where = -1;
          for (let h = h0; h < h1; h++) {
            let i = ((n * inH + h) * inW + w0) * channels + c;
            for (let w = w0; w < w1; w++, i += channels) {
              const v = x[i] as number;
              if (v > best) {
                best = v;
                where = i;
              }
            }
          }
          if (where >= 0) dx[where] = (dx[where] as number) + (dy[dyBase + c] as number);
        }
      }
    }
  }
  return out;
}

/** Kernel config for `tf.registerKernel`. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
