/**
 * Gradients of per-channel (depthwise, or 1 → C) 2-D convolutions over `[batch, time, freq,
 * channels]`, channels-last (activations and their gradients `Float32Array`, weights and weight
 * gradients `Float64Array`, arithmetic in float64): the training kernels behind `ChannelConv`
 * for kws-kit's `SpectralConv` and `TemporalConv` layers.
 *
 *   y[n, t, f, c] = Σ_{i<kt} Σ_{j<kf} x[n, t + i·dt − pt, f·s + j·df − pf, c or 0] · w[i, j, c]
 *
 * (zero outside the input), so that
 *
 *   dx[n, t + i·dt − pt, f·s + j·df − pf, c or 0] += dy[n, t, f, c] · w[i, j, c]
 *   dw[i, j, c] += dy[n, t, f, c] · x[…]
 *
 * BC-ResNet's shapes have kernels in the inference runtime's style (weights and sums in locals,
 * frames innermost, each value loaded once per use): {@link conv5x5Backward} (stem, classifier),
 * {@link freqConv3Backward} (3-tap frequency convolutions), {@link timeConv3Backward} (3-tap
 * temporal convolutions). Any other geometry runs the general loops ({@link channelConvForward},
 * {@link channelConvBackward}, {@link conv3Backward}): channels innermost, the tap ranges inside
 * the input computed per output frame and row so that the inner loops carry no bounds branches.
 *
 * @internal
 * @packageDocumentation
 */
import type { ConvGeometry } from '../../models/conv-kernels.js';

/**
 * Geometry of a per-channel convolution, sizes per example: the inference runtime's (frequency
 * bins are its rows; one weight group) and the input channels, `channels` (depthwise) or 1.
 */
export interface ChannelConvGeometry extends Omit<ConvGeometry, 'rowsPerGroup'> {
  readonly inChannels: number;
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
  const {
    frames,
    rows: bins,
    inChannels: ci,
    outFrames,
    outRows: outBins,
    channels: C,
    kt,
    kf,
    dt,
    df,
    stride,
  } = g;
  const plane = ci === 1;
  const K = kt * kf;
  if (plane) for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) wT[c * K + k] = w[k * C + c] as number;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      const ilo = tapLo(t0, dt, kt);
      const ihi = tapHi(t0, dt, kt, frames);
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padRows;
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
  const {
    frames,
    rows: bins,
    inChannels: ci,
    outFrames,
    outRows: outBins,
    channels: C,
    kt,
    kf,
    dt,
    df,
    stride,
  } = g;
  const plane = ci === 1;
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < outFrames; t++) {
      const t0 = t - g.padTime;
      const ilo = tapLo(t0, dt, kt);
      const ihi = tapHi(t0, dt, kt, frames);
      for (let f = 0; f < outBins; f++) {
        const f0 = f * stride - g.padRows;
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
 * Gradient of a depthwise convolution with three taps along one axis (the general case of
 * BC-ResNet's frequency convolution): `lines` independent lines of `inLen` positions × C channels
 * (`x`, `dx`: `[lines, inLen, C]`) to `[lines, outLen, C]`,
 *
 *   y[l, p, c] = Σ_{j<3} x[l, p·s + j·d − pad, c] · w[j, c]   (zero outside the line)
 *
 * Adds into `dw` (`[3, C]`) and, unless null, `dx`.
 */
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
 * {@link conv3Backward} for stride 1, dilation 1 and one zero each side ('same'), gathered so
 * that each input gradient is written once:
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
 * Gradient of the inference runtime's `conv5x5` (an undilated 5×5 per-channel convolution of a
 * zero-bordered input) for one example, on the same bordered input `xp`, whose value at padded
 * (frame, row, channel) is `xp[frame·frameStride + row·rowStride + c·chanStride]` (`chanStride`
 * 0: one plane for every channel, the stem):
 *
 *   dw[i, j, c] += Σ_{t, r} xp[t + i, r·s + j, c] · dy[t, r, c]
 *   dxp[t + i, r·s + j, c] += Σ dy[t, r, c] · w[i, j, c]   (unless `dxp` is null)
 *
 * with `dy` `[outFrames, outRows, C]` from `dyOff`, `w` and `dw` `[5, 5, C]`, `dxp` laid out as
 * `xp`. Per (row, channel, tap column j) the padded frames stream through once while a shift
 * register holds dy at the last five output frames: each frame costs one input load and one dy
 * load for the five time taps' sums, which stay in locals.
 */
export function conv5x5Backward(
  xp: Float64Array,
  frameStride: number,
  rowStride: number,
  chanStride: number,
  outFrames: number,
  outRows: number,
  C: number,
  stride: number,
  w: Float64Array,
  dy: Float32Array,
  dyOff: number,
  dw: Float64Array,
  dxp: Float64Array | null,
): void {
  const frame = outRows * C;
  for (let r = 0; r < outRows; r++) {
    for (let c = 0; c < C; c++) {
      for (let j = 0; j < 5; j++) {
        // d1 … d4: dy at output frames p − 1 … p − 4 (zero before the first).
        let d1 = 0;
        let d2 = 0;
        let d3 = 0;
        let d4 = 0;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let a4 = 0;
        const start = (r * stride + j) * rowStride + c * chanStride;
        let q = start;
        let o = dyOff + r * C + c;
        for (let p = 0; p < outFrames; p++) {
          // Padded frame p is time tap i of output frame p − i.
          const d0 = dy[o] as number;
          const v = xp[q] as number;
          a0 += v * d0;
          a1 += v * d1;
          a2 += v * d2;
          a3 += v * d3;
          a4 += v * d4;
          d4 = d3;
          d3 = d2;
          d2 = d1;
          d1 = d0;
          q += frameStride;
          o += frame;
        }
        // The last four padded frames: no output frame starts there.
        for (let p = 0; p < 4; p++) {
          const v = xp[q] as number;
          a1 += v * d1;
          a2 += v * d2;
          a3 += v * d3;
          a4 += v * d4;
          d4 = d3;
          d3 = d2;
          d2 = d1;
          d1 = 0;
          q += frameStride;
        }
        const k = j * C + c;
        dw[k] = (dw[k] as number) + a0;
        dw[k + 5 * C] = (dw[k + 5 * C] as number) + a1;
        dw[k + 10 * C] = (dw[k + 10 * C] as number) + a2;
        dw[k + 15 * C] = (dw[k + 15 * C] as number) + a3;
        dw[k + 20 * C] = (dw[k + 20 * C] as number) + a4;
        if (dxp !== null) {
          // dxp[p] += Σ_i w[i, j, c]·dy[p − i], with the same shift register.
          const w0 = w[k] as number;
          const w1 = w[k + 5 * C] as number;
          const w2 = w[k + 10 * C] as number;
          const w3 = w[k + 15 * C] as number;
          const w4 = w[k + 20 * C] as number;
          d1 = 0;
          d2 = 0;
          d3 = 0;
          d4 = 0;
          q = start;
          o = dyOff + r * C + c;
          for (let p = 0; p < outFrames + 4; p++) {
            const d0 = p < outFrames ? (dy[o] as number) : 0;
            dxp[q] = (dxp[q] as number) + w0 * d0 + w1 * d1 + w2 * d2 + w3 * d3 + w4 * d4;
            d4 = d3;
            d3 = d2;
            d2 = d1;
            d1 = d0;
            q += frameStride;
            o += frame;
          }
        }
      }
    }
  }
}

/**
 * Whether {@link freqConv3Backward} runs a 3-tap frequency convolution of `rows` input rows to
 * `outRows` output rows at `stride` (one zero row each side): stride 1 or 2 with the output rows
 * a multiple of five (BC-ResNet with 40 mels: 20, 10 and 5 rows).
 */
export function isFreqConv3Chunked(rows: number, outRows: number, stride: number): boolean {
  return outRows % 5 === 0 && ((stride === 1 && rows === outRows) || (stride === 2 && rows === 2 * outRows));
}

/**
 * Gradient of BC-ResNet's 3-tap frequency convolution (`kt = 1`, `kf = 3`, one zero row each side,
 * stride 1 or 2; see {@link isFreqConv3Chunked}) over `frames` frames from offsets `xOff` (`x`,
 * `dx`: `[frames, rows, C]`) and `dyOff` (`dy`: `[frames, outRows, C]`):
 *
 *   y[t, p, c] = Σ_{j<3} x[t, p·s + j − 1, c] · w[j, c]
 *   dx[t, q, c] (+)= Σ_{p, j: p·s + j − 1 = q} dy[t, p, c] · w[j, c],   dw[j, c] += Σ dy[t, p, c] · x[t, p·s + j − 1, c]
 *
 * `assign` overwrites `dx` (the first writer of the backward pass), else adds; `dx` null skips it.
 * Mirrors the inference runtime's forward kernel: per channel and chunk of five output rows the
 * three weights and three weight-gradient sums live in locals and the frames run innermost, each
 * frame loading its chunk's dy and x once and writing each input gradient once.
 */
export function freqConv3Backward(
  frames: number,
  rows: number,
  outRows: number,
  C: number,
  stride: number,
  x: Float32Array,
  xOff: number,
  w: Float64Array,
  dy: Float32Array,
  dyOff: number,
  dx: Float32Array | null,
  assign: boolean,
  dw: Float64Array,
): void {
  const inFrame = rows * C;
  const outFrame = outRows * C;
  const add = !assign;
  for (let c = 0; c < C; c++) {
    const w0 = w[c] as number;
    const w1 = w[C + c] as number;
    const w2 = w[2 * C + c] as number;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let r0 = 0; r0 < outRows; r0 += 5) {
      // Rows outside the input (or dy) are zero: `top` / `bottom` say whether they exist.
      const top = r0 > 0;
      const bottom = r0 + 5 < outRows;
      let p = xOff + stride * r0 * C + c;
      let o = dyOff + r0 * C + c;
      if (stride === 1 && add && dx !== null) {
        // BC-ResNet's repeated blocks (the block input's gradient already holds the sum's
        // term): the loop-invariant tests of the general loop hoisted out.
        for (let t = 0; t < frames; t++) {
          const dm = top ? (dy[o - C] as number) : 0;
          const d0 = dy[o] as number;
          const d1 = dy[o + C] as number;
          const d2 = dy[o + 2 * C] as number;
          const d3 = dy[o + 3 * C] as number;
          const d4 = dy[o + 4 * C] as number;
          const d5 = bottom ? (dy[o + 5 * C] as number) : 0;
          dx[p] = (dx[p] as number) + w0 * d1 + w1 * d0 + w2 * dm;
          dx[p + C] = (dx[p + C] as number) + w0 * d2 + w1 * d1 + w2 * d0;
          dx[p + 2 * C] = (dx[p + 2 * C] as number) + w0 * d3 + w1 * d2 + w2 * d1;
          dx[p + 3 * C] = (dx[p + 3 * C] as number) + w0 * d4 + w1 * d3 + w2 * d2;
          dx[p + 4 * C] = (dx[p + 4 * C] as number) + w0 * d5 + w1 * d4 + w2 * d3;
          const xm = top ? (x[p - C] as number) : 0;
          const x0 = x[p] as number;
          const x1 = x[p + C] as number;
          const x2 = x[p + 2 * C] as number;
          const x3 = x[p + 3 * C] as number;
          const x4 = x[p + 4 * C] as number;
          const x5 = bottom ? (x[p + 5 * C] as number) : 0;
          g0 += d0 * xm + d1 * x0 + d2 * x1 + d3 * x2 + d4 * x3;
          g1 += d0 * x0 + d1 * x1 + d2 * x2 + d3 * x3 + d4 * x4;
          g2 += d0 * x1 + d1 * x2 + d2 * x3 + d3 * x4 + d4 * x5;
          p += inFrame;
          o += outFrame;
        }
      } else if (stride === 1) {
        for (let t = 0; t < frames; t++) {
          const dm = top ? (dy[o - C] as number) : 0;
          const d0 = dy[o] as number;
          const d1 = dy[o + C] as number;
          const d2 = dy[o + 2 * C] as number;
          const d3 = dy[o + 3 * C] as number;
          const d4 = dy[o + 4 * C] as number;
          const d5 = bottom ? (dy[o + 5 * C] as number) : 0;
          if (dx !== null) {
            // Input row q receives tap j of output row q + 1 − j.
            const v0 = w0 * d1 + w1 * d0 + w2 * dm;
            const v1 = w0 * d2 + w1 * d1 + w2 * d0;
            const v2 = w0 * d3 + w1 * d2 + w2 * d1;
            const v3 = w0 * d4 + w1 * d3 + w2 * d2;
            const v4 = w0 * d5 + w1 * d4 + w2 * d3;
            dx[p] = add ? (dx[p] as number) + v0 : v0;
            dx[p + C] = add ? (dx[p + C] as number) + v1 : v1;
            dx[p + 2 * C] = add ? (dx[p + 2 * C] as number) + v2 : v2;
            dx[p + 3 * C] = add ? (dx[p + 3 * C] as number) + v3 : v3;
            dx[p + 4 * C] = add ? (dx[p + 4 * C] as number) + v4 : v4;
          }
          const xm = top ? (x[p - C] as number) : 0;
          const x0 = x[p] as number;
          const x1 = x[p + C] as number;
          const x2 = x[p + 2 * C] as number;
          const x3 = x[p + 3 * C] as number;
          const x4 = x[p + 4 * C] as number;
          const x5 = bottom ? (x[p + 5 * C] as number) : 0;
          g0 += d0 * xm + d1 * x0 + d2 * x1 + d3 * x2 + d4 * x3;
          g1 += d0 * x0 + d1 * x1 + d2 * x2 + d3 * x3 + d4 * x4;
          g2 += d0 * x1 + d1 * x2 + d2 * x3 + d3 * x4 + d4 * x5;
          p += inFrame;
          o += outFrame;
        }
      } else {
        for (let t = 0; t < frames; t++) {
          const d0 = dy[o] as number;
          const d1 = dy[o + C] as number;
          const d2 = dy[o + 2 * C] as number;
          const d3 = dy[o + 3 * C] as number;
          const d4 = dy[o + 4 * C] as number;
          const d5 = bottom ? (dy[o + 5 * C] as number) : 0;
          if (dx !== null) {
            // Input row 2p is tap 1 of output p; row 2p + 1 is tap 2 of p and tap 0 of p + 1.
            const e0 = w1 * d0;
            const o0 = w2 * d0 + w0 * d1;
            const e1 = w1 * d1;
            const o1 = w2 * d1 + w0 * d2;
            const e2 = w1 * d2;
            const o2 = w2 * d2 + w0 * d3;
            const e3 = w1 * d3;
            const o3 = w2 * d3 + w0 * d4;
            const e4 = w1 * d4;
            const o4 = w2 * d4 + w0 * d5;
            dx[p] = add ? (dx[p] as number) + e0 : e0;
            dx[p + C] = add ? (dx[p + C] as number) + o0 : o0;
            dx[p + 2 * C] = add ? (dx[p + 2 * C] as number) + e1 : e1;
            dx[p + 3 * C] = add ? (dx[p + 3 * C] as number) + o1 : o1;
            dx[p + 4 * C] = add ? (dx[p + 4 * C] as number) + e2 : e2;
            dx[p + 5 * C] = add ? (dx[p + 5 * C] as number) + o2 : o2;
            dx[p + 6 * C] = add ? (dx[p + 6 * C] as number) + e3 : e3;
            dx[p + 7 * C] = add ? (dx[p + 7 * C] as number) + o3 : o3;
            dx[p + 8 * C] = add ? (dx[p + 8 * C] as number) + e4 : e4;
            dx[p + 9 * C] = add ? (dx[p + 9 * C] as number) + o4 : o4;
          }
          const xm = top ? (x[p - C] as number) : 0;
          const x0 = x[p] as number;
          const x1 = x[p + C] as number;
          const x2 = x[p + 2 * C] as number;
          const x3 = x[p + 3 * C] as number;
          const x4 = x[p + 4 * C] as number;
          const x5 = x[p + 5 * C] as number;
          const x6 = x[p + 6 * C] as number;
          const x7 = x[p + 7 * C] as number;
          const x8 = x[p + 8 * C] as number;
          const x9 = x[p + 9 * C] as number;
          g0 += d0 * xm + d1 * x1 + d2 * x3 + d3 * x5 + d4 * x7;
          g1 += d0 * x0 + d1 * x2 + d2 * x4 + d3 * x6 + d4 * x8;
          g2 += d0 * x1 + d1 * x3 + d2 * x5 + d3 * x7 + d4 * x9;
          p += inFrame;
          o += outFrame;
        }
      }
    }
    dw[c] = (dw[c] as number) + g0;
    dw[C + c] = (dw[C + c] as number) + g1;
    dw[2 * C + c] = (dw[2 * C + c] as number) + g2;
  }
}

/**
 * Gradient of a 3-tap depthwise convolution along time (BC-ResNet's `TemporalConv`: any dilation
 * `d`, `padTime` zero frames before the input, as many output frames as input frames) for one
 * example from offset `off` (`x`, `dy`, `dx`: `[frames, rows, C]`):
 *
 *   y[t, r, c] = Σ_{i<3} x[t + i·d − padTime, r, c] · w[i, c]
 *   dx[q, r, c] (+)= Σ_i dy[q − i·d + padTime, r, c] · w[i, c],   dw[i, c] += Σ_q x[q, r, c] · dy[q − i·d + padTime, r, c]
 *
 * (dy zero outside the frames). Both sums read the same three dy values per input frame, so per
 * (row, channel) one pass over the frames gives both, with the weights and sums in locals and
 * the frames whose three dy frames all exist free of bounds tests.
 */
export function timeConv3Backward(
  frames: number,
  rows: number,
  C: number,
  dilation: number,
  padTime: number,
  x: Float32Array,
  w: Float64Array,
  dy: Float32Array,
  off: number,
  dx: Float32Array | null,
  assign: boolean,
  dw: Float64Array,
): void {
  const frame = rows * C;
  const step = dilation * frame;
  // Input frame q reads dy frames q + padTime − i·d: all three exist for q in [inner0, inner1).
  const inner0 = Math.min(frames, Math.max(0, 2 * dilation - padTime));
  const inner1 = Math.max(inner0, Math.min(frames, frames - padTime));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      const w0 = w[c] as number;
      const w1 = w[C + c] as number;
      const w2 = w[2 * C + c] as number;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      const base = off + r * C + c;
      for (let q = 0; q < frames; q++) {
        if (q === inner0) {
          let i = base + q * frame;
          let o = i + padTime * frame;
          for (; q < inner1; q++) {
            const v = x[i] as number;
            const e0 = dy[o] as number;
            const e1 = dy[o - step] as number;
            const e2 = dy[o - 2 * step] as number;
            g0 += v * e0;
            g1 += v * e1;
            g2 += v * e2;
            if (dx !== null) {
              const s = w0 * e0 + w1 * e1 + w2 * e2;
              dx[i] = assign ? s : (dx[i] as number) + s;
            }
            i += frame;
            o += frame;
          }
          if (q >= frames) break;
        }
        const i = base + q * frame;
        const t0 = q + padTime;
        const e0 = t0 < frames && t0 >= 0 ? (dy[base + t0 * frame] as number) : 0;
        const t1 = t0 - dilation;
        const e1 = t1 < frames && t1 >= 0 ? (dy[base + t1 * frame] as number) : 0;
        const t2 = t1 - dilation;
        const e2 = t2 < frames && t2 >= 0 ? (dy[base + t2 * frame] as number) : 0;
        const v = x[i] as number;
        g0 += v * e0;
        g1 += v * e1;
        g2 += v * e2;
        if (dx !== null) {
          const s = w0 * e0 + w1 * e1 + w2 * e2;
          dx[i] = assign ? s : (dx[i] as number) + s;
        }
      }
      dw[c] = (dw[c] as number) + g0;
      dw[C + c] = (dw[C + c] as number) + g1;
      dw[2 * C + c] = (dw[2 * C + c] as number) + g2;
    }
  }
}
