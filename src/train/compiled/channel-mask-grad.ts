/**
 * Kernels of the compiled trainer for channel dropout in training mode: the input times a
 * per-(example, channel) mask, and its gradient.
 *
 * @internal
 * @packageDocumentation
 */

/**
 * `y[n, p, c] = x[n, p, c] · mask[n, c]` for `positions` positions (frames × bins) per example;
 * `x`, `y` are `[batch, positions, channels]`, `mask` is `[batch, channels]` (values 0 or
 * 1 / (1 − rate), as `ChannelDropout.drawMask` draws them). Each product is rounded to float32
 * once, as tfjs' `mul` rounds it.
 */
export function channelMaskForward(
  batch: number,
  positions: number,
  channels: number,
  x: Float32Array,
  mask: Float32Array,
  y: Float32Array,
): void {
  for (let n = 0; n < batch; n++) {
    const m = n * channels;
    const base = n * positions * channels;
    for (let p = 0; p < positions; p++) {
      const o = base + p * channels;
      for (let c = 0; c < channels; c++) y[o + c] = (x[o + c] as number) * (mask[m + c] as number);
    }
  }
}

/**
 * Gradient of {@link channelMaskForward}: `dx = dy · mask`, written over `dx` when `assign` is
 * true (this step is the first to write it in the backward pass), added to it otherwise.
 */
export function channelMaskBackward(
  batch: number,
  positions: number,
  channels: number,
  mask: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  assign: boolean,
): void {
  for (let n = 0; n < batch; n++) {
    const m = n * channels;
    const base = n * positions * channels;
    for (let p = 0; p < positions; p++) {
      const o = base + p * channels;
      if (assign) {
        for (let c = 0; c < channels; c++) dx[o + c] = (dy[o + c] as number) * (mask[m + c] as number);
      } else {
        for (let c = 0; c < channels; c++) {
          dx[o + c] = (dx[o + c] as number) + (dy[o + c] as number) * (mask[m + c] as number);
        }
      }
    }
  }
}
