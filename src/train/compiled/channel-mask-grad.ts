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
 * once, as tfjs' `mul` rounds it. Per example, four channels per pass over the positions with
 * their mask values in locals (half the time of a short loop over the channels per position).
 */
export function channelMaskForward(
  batch: number,
  positions: number,
  channels: number,
  x: Float32Array,
  mask: Float32Array,
  y: Float32Array,
): void {
  // The same product as the gradient's first write: dy · mask with dy = x.
  channelMaskBackward(batch, positions, channels, mask, x, y, true);
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
  const C = channels;
  const c4 = C - (C % 4);
  for (let n = 0; n < batch; n++) {
    const m = n * C;
    const base = n * positions * C;
    const end = base + positions * C;
    // Four channels per pass over the positions, their mask values in locals.
    for (let c = 0; c < c4; c += 4) {
      const m0 = mask[m + c] as number;
      const m1 = mask[m + c + 1] as number;
      const m2 = mask[m + c + 2] as number;
      const m3 = mask[m + c + 3] as number;
      if (assign) {
        for (let i = base + c; i < end; i += C) {
          dx[i] = (dy[i] as number) * m0;
          dx[i + 1] = (dy[i + 1] as number) * m1;
          dx[i + 2] = (dy[i + 2] as number) * m2;
          dx[i + 3] = (dy[i + 3] as number) * m3;
        }
      } else {
        for (let i = base + c; i < end; i += C) {
          dx[i] = (dx[i] as number) + (dy[i] as number) * m0;
          dx[i + 1] = (dx[i + 1] as number) + (dy[i + 1] as number) * m1;
          dx[i + 2] = (dx[i + 2] as number) + (dy[i + 2] as number) * m2;
          dx[i + 3] = (dx[i + 3] as number) + (dy[i + 3] as number) * m3;
        }
      }
    }
    for (let c = c4; c < C; c++) {
      const mc = mask[m + c] as number;
      for (let i = base + c; i < end; i += C) {
        dx[i] = assign ? (dy[i] as number) * mc : (dx[i] as number) + (dy[i] as number) * mc;
      }
    }
  }
}
