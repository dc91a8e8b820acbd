/**
 * Per-channel (depthwise, or 1 → C) 2-D convolution over `[batch, time, freq, channels]` and its
 * gradients, in channels-last layout (activations and their gradients `Float32Array`, weights
 * and weight gradients `Float64Array`, arithmetic in float64): the training kernels of the
 * compiled trainer for kws-kit's `SpectralConv` and `TemporalConv` layers.
 *
 *   y[n, t, f, c] = Σ_{i<kt} Σ_{j<kf} x[n, t + i·dt − pt, f·s + j·df − pf, c or 0] · w[i, j, c]
 *
 * (zero outside the input). The backward pass is the same loop nest run once, giving both
 *
 *   dx[n, t + i·dt − pt, f·s + j·df − pf, c or 0] += dy[n, t, f, c] · w[i, j, c]
 *   dw[i, j, c] += dy[n, t, f, c] · x[…]
 *
 * Loops run channels innermost, so every load and store is contiguous; the tap ranges that stay
 * inside the input are computed per output frame and row, so the inner loops carry no bounds
 * branches.
 *
 * @internal
 * @packageDocumentation
 */

/** Geometry of a per-channel convolution; sizes per example. */
export interface ChannelConvGeometry {
  /** Input frames, bins and channels (`inChannels` = `channels` or 1). */
  readonly frames: number;
  readonly bins: number;
  readonly inChannels: number;
  /** Output frames, bins and channels. */
  readonly outFrames: number;
  readonly outBins: number;
  readonly channels: number;
  /** Taps along time and frequency. */
  readonly kt: number;
  readonly kf: number;
  /** Tap spacing along time and frequency. */
  readonly dt: number;
  readonly df: number;
  /** Output stride along frequency. */
  readonly stride: number;
  /** Zero frames / bins before the input. */
  readonly padTime: number;
  readonly padFreq: number;
}

/** First tap index k < taps with `base + k·d ≥ 0` (taps when none). */
function tapLo(base: number, d: number, taps: number): number {
  let lo = 0;
  while (lo < taps && base + lo * d < 0) lo++;
  return lo;
}

/** One past the last tap index k < taps with `base + k·d < size`. */
function tapHi(base: number, d: number, taps: number, size: number): number {
  let hi = taps;
  while (hi > 0 && base + (hi - 1) * d >= size) hi--;
  return hi;
}

/**
 * Forward pass: overwrites `y` (`[batch, outFrames, outBins, channels]`) with the convolution of
 * `x` (`[batch, frames, bins, inChannels]`) by `w` (`[kt, kf, channels]`). A 1-channel input
 * (the stem) gathers each output's taps into `taps` (scratch of `kt · kf`) and sums four
 * channels at a time in locals over the transposed weights `wT` (`[channels, kt·kf]`); a
 * depthwise input sums each channel's taps in a local, writing every output once.
 */
export function channelConvForward(
  g: ChannelConvGeometry,
  batch: number,
  x: Float32Array,
  w: Float64Array,
  y: Float32Array,
  taps: Float64Array,
  wT: Float64Array,
): void {
  const { frames, bins, inChannels: ci, outFrames, outBins, channels: C, kt, kf, dt, df, stride } = g;
  const plane = ci === 1;
  const K = kt * kf;
  if (plane) for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) wT[c * K + k] = w[k * C + c] as number;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      const ilo = tapLo(t0, dt, kt);
      const ihi = tapHi(t0, dt, kt, frames);
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padFreq;
        const jlo = tapLo(f0, df, kf);
        const jhi = tapHi(f0, df, kf, bins);
        const yo = ((n * outFrames + t) * outBins + f) * C;
        if (plane) {
          taps.fill(0);
          for (let i = ilo; i < ihi; i++) {
            const xRow = (n * frames + t0 + i * dt) * bins + f0;
            for (let j = jlo; j < jhi; j++) taps[i * kf + j] = x[xRow + j * df] as number;
          }
          for (let c = 0; c < C; c += 4) {
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            const o0 = c * K;
            for (let k = 0; k < K; k++) {
              const u = taps[k] as number;
              s0 += u * (wT[o0 + k] as number);
              s1 += u * (wT[o0 + K + k] as number);
              s2 += u * (wT[o0 + 2 * K + k] as number);
              s3 += u * (wT[o0 + 3 * K + k] as number);
            }
            y[yo + c] = s0;
            if (c + 1 < C) y[yo + c + 1] = s1;
            if (c + 2 < C) y[yo + c + 2] = s2;
            if (c + 3 < C) y[yo + c + 3] = s3;
          }
        } else {
          for (let c = 0; c < C; c++) {
            let s = 0;
            for (let i = ilo; i < ihi; i++) {
              const xRow = ((n * frames + t0 + i * dt) * bins + f0) * C + c;
              const wRow = i * kf * C + c;
              for (let j = jlo; j < jhi; j++)
                s += (x[xRow + j * df * C] as number) * (w[wRow + j * C] as number);
            }
            y[yo + c] = s;
          }
        }
      }
    }
  }
}

/**
 * Backward pass: adds the kernel gradient into `dw` (`[kt, kf, channels]`) and, unless `dx` is
 * null (the model input), the input gradient into `dx` (`[batch, frames, bins, inChannels]`),
 * for output gradient `dy` (`[batch, outFrames, outBins, channels]`).
 */
export function channelConvBackward(
  g: ChannelConvGeometry,
  batch: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float64Array,
): void {
  const { frames, bins, inChannels: ci, outFrames, outBins, channels: C, kt, kf, dt, df, stride } = g;
  const plane = ci === 1;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      const ilo = tapLo(t0, dt, kt);
      const ihi = tapHi(t0, dt, kt, frames);
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padFreq;
        const jlo = tapLo(f0, df, kf);
        const jhi = tapHi(f0, df, kf, bins);
        const yo = ((n * outFrames + t) * outBins + f) * C;
        for (let i = ilo; i < ihi; i++) {
          const xRow = (n * frames + t0 + i * dt) * bins;
          for (let j = jlo; j < jhi; j++) {
            const xo = (xRow + f0 + j * df) * ci;
            const wo = (i * kf + j) * C;
            if (plane) {
              const u = x[xo] as number;
              let s = 0;
              for (let c = 0; c < C; c++) {
                const d = dy[yo + c] as number;
                s += d * (w[wo + c] as number);
                dw[wo + c] = (dw[wo + c] as number) + d * u;
              }
              if (dx !== null) dx[xo] = (dx[xo] as number) + s;
            } else if (dx !== null) {
              for (let c = 0; c < C; c++) {
                const d = dy[yo + c] as number;
                dx[xo + c] = (dx[xo + c] as number) + d * (w[wo + c] as number);
                dw[wo + c] = (dw[wo + c] as number) + d * (x[xo + c] as number);
              }
            } else {
              for (let c = 0; c < C; c++)
                dw[wo + c] = (dw[wo + c] as number) + (dy[yo + c] as number) * (x[xo + c] as number);
            }
          }
        }
      }
    }
  }
}

/**
 * Depthwise convolution with three taps along one axis (BC-ResNet's 3×1 frequency convolution,
 * and its 1×3 dilated temporal convolution on frequency-averaged features): `lines` independent
 * lines of `inLen` positions × C channels (`[lines, inLen, C]`) to `[lines, outLen, C]`,
 *
 *   y[l, p, c] = Σ_{j<3} x[l, p·s + j·d − pad, c] · w[j, c]   (zero outside the line)
 *
 * Per (line, channel) the three weights live in locals and the positions run innermost.
 */
export function conv3Forward(
  lines: number,
  inLen: number,
  outLen: number,
  C: number,
  stride: number,
  dilation: number,
  pad: number,
  x: Float32Array,
  w: Float64Array,
  y: Float32Array,
): void {
  if (stride === 1 && dilation === 1 && pad === 1 && outLen === inLen && inLen >= 2) {
    conv3SameForward(lines, inLen, C, x, w, y);
    return;
  }
  for (let l = 0; l < lines; l++) {
    const xBase = l * inLen * C;
    const yBase = l * outLen * C;
    for (let c = 0; c < C; c++) {
      const w0 = w[c] as number;
      const w1 = w[C + c] as number;
      const w2 = w[2 * C + c] as number;
      for (let p = 0; p < outLen; p++) {
        const q = p * stride - pad;
        const q1 = q + dilation;
        const q2 = q1 + dilation;
        let v = 0;
        if (q >= 0 && q < inLen) v += w0 * (x[xBase + q * C + c] as number);
        if (q1 >= 0 && q1 < inLen) v += w1 * (x[xBase + q1 * C + c] as number);
        if (q2 >= 0 && q2 < inLen) v += w2 * (x[xBase + q2 * C + c] as number);
        y[yBase + p * C + c] = v;
      }
    }
  }
}

/** Gradient of {@link conv3Forward}: adds into `dw` (`[3, C]`) and, unless null, `dx`. */
export function conv3Backward(
  lines: number,
  inLen: number,
  outLen: number,
  C: number,
  stride: number,
  dilation: number,
  pad: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float64Array,
): void {
  if (stride === 1 && dilation === 1 && pad === 1 && outLen === inLen && inLen >= 2) {
    conv3SameBackward(lines, inLen, C, x, w, dy, dx, dw);
    return;
  }
  // Lines outermost (each line's x, dx and dy stay in cache for all channels); the kernel
  // gradient is summed per (line, channel) in locals and added once per line.
  for (let l = 0; l < lines; l++) {
    for (let c = 0; c < C; c++) {
      const w0 = w[c] as number;
      const w1 = w[C + c] as number;
      const w2 = w[2 * C + c] as number;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      const xBase = l * inLen * C + c;
      const yBase = l * outLen * C + c;
      for (let p = 0; p < outLen; p++) {
        const d = dy[yBase + p * C] as number;
        const q = p * stride - pad;
        const q1 = q + dilation;
        const q2 = q1 + dilation;
        if (q >= 0 && q < inLen) {
          const i = xBase + q * C;
          g0 += d * (x[i] as number);
          if (dx !== null) dx[i] = (dx[i] as number) + d * w0;
        }
        if (q1 >= 0 && q1 < inLen) {
          const i = xBase + q1 * C;
          g1 += d * (x[i] as number);
          if (dx !== null) dx[i] = (dx[i] as number) + d * w1;
        }
        if (q2 >= 0 && q2 < inLen) {
          const i = xBase + q2 * C;
          g2 += d * (x[i] as number);
          if (dx !== null) dx[i] = (dx[i] as number) + d * w2;
        }
      }
      dw[c] = (dw[c] as number) + g0;
      dw[C + c] = (dw[C + c] as number) + g1;
      dw[2 * C + c] = (dw[2 * C + c] as number) + g2;
    }
  }
}

/**
 * {@link conv3Forward} for stride 1, dilation 1 and one zero each side ('same'): the three
 * inputs of an output slide along the line in locals, one load and one store per output.
 */
function conv3SameForward(
  lines: number,
  len: number,
  C: number,
  x: Float32Array,
  w: Float64Array,
  y: Float32Array,
): void {
  for (let l = 0; l < lines; l++) {
    const base = l * len * C;
    for (let c = 0; c < C; c++) {
      const w0 = w[c] as number;
      const w1 = w[C + c] as number;
      const w2 = w[2 * C + c] as number;
      let o = base + c;
      let left = 0;
      let mid = x[o] as number;
      for (let p = 0; p < len - 1; p++) {
        const right = x[o + C] as number;
        y[o] = w0 * left + w1 * mid + w2 * right;
        left = mid;
        mid = right;
        o += C;
      }
      y[o] = w0 * left + w1 * mid;
    }
  }
}

/**
 * Gradient of {@link conv3SameForward}, gathered so that each input gradient is written once:
 * `dx[q] += w0·dy[q+1] + w1·dy[q] + w2·dy[q−1]`, `dw[j] += Σ_p dy[p]·x[p − 1 + j]`.
 */
function conv3SameBackward(
  lines: number,
  len: number,
  C: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float64Array,
): void {
  for (let l = 0; l < lines; l++) {
    const base = l * len * C;
    for (let c = 0; c < C; c++) {
      const w0 = w[c] as number;
      const w1 = w[C + c] as number;
      const w2 = w[2 * C + c] as number;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      let o = base + c;
      // Sliding windows: x[p−1], x[p], and dy[p−1], dy[p].
      let xl = 0;
      let xm = x[o] as number;
      let dl = 0;
      let dm = dy[o] as number;
      for (let p = 0; p < len - 1; p++) {
        const xr = x[o + C] as number;
        const dr = dy[o + C] as number;
        g0 += dm * xl;
        g1 += dm * xm;
        g2 += dm * xr;
        if (dx !== null) dx[o] = (dx[o] as number) + w0 * dr + w1 * dm + w2 * dl;
        xl = xm;
        xm = xr;
        dl = dm;
        dm = dr;
        o += C;
      }
      g0 += dm * xl;
      g1 += dm * xm;
      if (dx !== null) dx[o] = (dx[o] as number) + w1 * dm + w2 * dl;
      dw[c] = (dw[c] as number) + g0;
      dw[C + c] = (dw[C + c] as number) + g1;
      dw[2 * C + c] = (dw[2 * C + c] as number) + g2;
    }
  }
}

/**
 * Gathers the taps of every output of a 1-channel convolution (`inChannels` 1) into `patches`
 * `[batch · outFrames · outBins, kt · kf]` (zeros outside the input), so that the convolution is
 * the matrix product `patches · W` with `W` `[kt·kf, channels]` and its kernel gradient
 * `patchesᵀ · dy`.
 */
export function gatherPatches(
  g: ChannelConvGeometry,
  batch: number,
  x: Float32Array,
  patches: Float32Array,
): void {
  const { frames, bins, outFrames, outBins, kt, kf, dt, df, stride } = g;
  const K = kt * kf;
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padFreq;
        for (let i = 0; i < kt; i++) {
          const ti = t0 + i * dt;
          const rowInside = ti >= 0 && ti < frames;
          const xRow = (n * frames + ti) * bins;
          for (let j = 0; j < kf; j++) {
            const fj = f0 + j * df;
            patches[o + i * kf + j] = rowInside && fj >= 0 && fj < bins ? (x[xRow + fj] as number) : 0;
          }
        }
        o += K;
      }
    }
  }
}

/** Adds the patch gradients `dPatches` (layout of {@link gatherPatches}) back into `dx`. */
export function scatterPatches(
  g: ChannelConvGeometry,
  batch: number,
  dPatches: Float32Array,
  dx: Float32Array,
): void {
  const { frames, bins, outFrames, outBins, kt, kf, dt, df, stride } = g;
  const K = kt * kf;
  let o = 0;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padFreq;
        for (let i = 0; i < kt; i++) {
          const ti = t0 + i * dt;
          if (ti < 0 || ti >= frames) continue;
          const xRow = (n * frames + ti) * bins;
          for (let j = 0; j < kf; j++) {
            const fj = f0 + j * df;
            if (fj >= 0 && fj < bins)
              dx[xRow + fj] = (dx[xRow + fj] as number) + (dPatches[o + i * kf + j] as number);
          }
        }
        o += K;
      }
    }
  }
}
