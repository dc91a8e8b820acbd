/**
 * The stages of the self-sorting (Stockham) mixed-radix FFT of `ComplexFft`: one function per
 * radix, each one pass from (xr, xi) to (yr, yi): radix-4, 2, 3 and 5 butterflies, and a direct
 * DFT for any other prime. The small-DFT constants are shared with the prime-factor codelets of
 * prime-factor-fft.ts.
 *
 * @packageDocumentation
 */

/** One Stockham stage of an FFT plan. @internal */
export interface Stage {
  radix: number;
  /** Sub-sequence count m = n / radix at this stage. */
  m: number;
  /** Stride s: product of the radices of the earlier stages. */
  s: number;
  /** Twiddles ω_n^(j·p) for p in [0, m), j in [1, radix): index p·(radix−1) + (j−1). */
  twRe: Float64Array;
  twIm: Float64Array;
}

// Stockham decimation-in-frequency stage: for p < m, q < s, read x[q + s·(p + k·m)] for k < r,
// write y[q + s·(r·p + j)] = ω_n^(j·p) · Σₖ x_k·ω_r^(j·k). The output lands in natural order.

export function radix2(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const { m, s, twRe, twIm } = st;
  for (let p = 0; p < m; p++) {
    const wr = twRe[p] as number;
    const wi = twIm[p] as number;
    for (let q = 0; q < s; q++) {
      const a = q + s * p;
      const b = a + s * m;
      const ar = xr[a] as number;
      const ai = xi[a] as number;
      const br = xr[b] as number;
      const bi = xi[b] as number;
      const o = q + s * 2 * p;
      yr[o] = ar + br;
      yi[o] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[o + s] = dr * wr - di * wi;
      yi[o + s] = dr * wi + di * wr;
    }
  }
}

export function radix4(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[3 * p] as number;
    const w1i = twIm[3 * p] as number;
    const w2r = twRe[3 * p + 1] as number;
    const w2i = twIm[3 * p + 1] as number;
    const w3r = twRe[3 * p + 2] as number;
    const w3i = twIm[3 * p + 2] as number;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const x0r = xr[i0] as number;
      const x0i = xi[i0] as number;
      const x1r = xr[i0 + sm] as number;
      const x1i = xi[i0 + sm] as number;
      const x2r = xr[i0 + 2 * sm] as number;
      const x2i = xi[i0 + 2 * sm] as number;
      const x3r = xr[i0 + 3 * sm] as number;
      const x3i = xi[i0 + 3 * sm] as number;
      const t0r = x0r + x2r;
      const t0i = x0i + x2i;
      const t1r = x0r - x2r;
      const t1i = x0i - x2i;
      const t2r = x1r + x3r;
      const t2i = x1i + x3i;
      // (x1 − x3)·(−i)
      const t3r = x1i - x3i;
      const t3i = x3r - x1r;
      const o = q + s * 4 * p;
      yr[o] = t0r + t2r;
      yi[o] = t0i + t2i;
      const y1r = t1r + t3r;
      const y1i = t1i + t3i;
      if (p === 0) {
        // ω⁰ = 1: the first row of every stage (all of the last stage) needs no twiddles.
        yr[o + s] = y1r;
        yi[o + s] = y1i;
        yr[o + 2 * s] = t0r - t2r;
        yi[o + 2 * s] = t0i - t2i;
        yr[o + 3 * s] = t1r - t3r;
        yi[o + 3 * s] = t1i - t3i;
        continue;
      }
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      const y2r = t0r - t2r;
      const y2i = t0i - t2i;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
      const y3r = t1r - t3r;
      const y3i = t1i - t3i;
      yr[o + 3 * s] = y3r * w3r - y3i * w3i;
      yi[o + 3 * s] = y3r * w3i + y3i * w3r;
    }
  }
}

/** @internal */
export const SIN_60 = Math.sqrt(3) / 2;

export function radix3(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[2 * p] as number;
    const w1i = twIm[2 * p] as number;
    const w2r = twRe[2 * p + 1] as number;
    const w2i = twIm[2 * p + 1] as number;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const x0r = xr[i0] as number;
      const x0i = xi[i0] as number;
      const x1r = xr[i0 + sm] as number;
      const x1i = xi[i0 + sm] as number;
      const x2r = xr[i0 + 2 * sm] as number;
      const x2i = xi[i0 + 2 * sm] as number;
      const sr = x1r + x2r;
      const si = x1i + x2i;
      const mr = x0r - 0.5 * sr;
      const mi = x0i - 0.5 * si;
      // ω₃ = −1/2 − i·√3/2: the ±i·(√3/2)·(x1 − x2) term.
      const dr = SIN_60 * (x1i - x2i);
      const di = -SIN_60 * (x1r - x2r);
      const o = q + s * 3 * p;
      yr[o] = x0r + sr;
      yi[o] = x0i + si;
      const y1r = mr + dr;
      const y1i = mi + di;
      if (p === 0) {
        yr[o + s] = y1r;
        yi[o + s] = y1i;
        yr[o + 2 * s] = mr - dr;
        yi[o + 2 * s] = mi - di;
        continue;
      }
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      const y2r = mr - dr;
      const y2i = mi - di;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
    }
  }
}

/** @internal */
export const C1_5 = Math.cos((2 * Math.PI) / 5);
/** @internal */
export const C2_5 = Math.cos((4 * Math.PI) / 5);
/** @internal */
export const S1_5 = Math.sin((2 * Math.PI) / 5);
/** @internal */
export const S2_5 = Math.sin((4 * Math.PI) / 5);

export function radix5(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
): void {
  const { m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const tw = 4 * p;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const x0r = xr[i0] as number;
      const x0i = xi[i0] as number;
      const x1r = xr[i0 + sm] as number;
      const x1i = xi[i0 + sm] as number;
      const x2r = xr[i0 + 2 * sm] as number;
      const x2i = xi[i0 + 2 * sm] as number;
      const x3r = xr[i0 + 3 * sm] as number;
      const x3i = xi[i0 + 3 * sm] as number;
      const x4r = xr[i0 + 4 * sm] as number;
      const x4i = xi[i0 + 4 * sm] as number;
      const a1r = x1r + x4r;
      const a1i = x1i + x4i;
      const a2r = x2r + x3r;
      const a2i = x2i + x3i;
      const b1r = x1r - x4r;
      const b1i = x1i - x4i;
      const b2r = x2r - x3r;
      const b2i = x2i - x3i;
      const c1r = x0r + C1_5 * a1r + C2_5 * a2r;
      const c1i = x0i + C1_5 * a1i + C2_5 * a2i;
      const c2r = x0r + C2_5 * a1r + C1_5 * a2r;
      const c2i = x0i + C2_5 * a1i + C1_5 * a2i;
      // Multiplying by −i·sin: (re, im) → (sin·im, −sin·re).
      const d1r = S1_5 * b1i + S2_5 * b2i;
      const d1i = -(S1_5 * b1r + S2_5 * b2r);
      const d2r = S2_5 * b1i - S1_5 * b2i;
      const d2i = -(S2_5 * b1r - S1_5 * b2r);
      const o = q + s * 5 * p;
      yr[o] = x0r + a1r + a2r;
      yi[o] = x0i + a1i + a2i;
      if (p === 0) {
        yr[o + s] = c1r + d1r;
        yi[o + s] = c1i + d1i;
        yr[o + 2 * s] = c2r + d2r;
        yi[o + 2 * s] = c2i + d2i;
        yr[o + 3 * s] = c2r - d2r;
        yi[o + 3 * s] = c2i - d2i;
        yr[o + 4 * s] = c1r - d1r;
        yi[o + 4 * s] = c1i - d1i;
        continue;
      }
      twiddle(yr, yi, o + s, c1r + d1r, c1i + d1i, twRe[tw] as number, twIm[tw] as number);
      twiddle(yr, yi, o + 2 * s, c2r + d2r, c2i + d2i, twRe[tw + 1] as number, twIm[tw + 1] as number);
      twiddle(yr, yi, o + 3 * s, c2r - d2r, c2i - d2i, twRe[tw + 2] as number, twIm[tw + 2] as number);
      twiddle(yr, yi, o + 4 * s, c1r - d1r, c1i - d1i, twRe[tw + 3] as number, twIm[tw + 3] as number);
    }
  }
}

/** @internal */
export const COS_PI_8 = Math.cos(Math.PI / 8);
/** @internal */
export const SIN_PI_8 = Math.sin(Math.PI / 8);
/** @internal */
export const SQRT1_2 = Math.SQRT1_2;

/** y[o] = v·w (complex). Small enough for the JIT to inline. */
function twiddle(
  yr: Float64Array,
  yi: Float64Array,
  o: number,
  vr: number,
  vi: number,
  wr: number,
  wi: number,
): void {
  yr[o] = vr * wr - vi * wi;
  yi[o] = vr * wi + vi * wr;
}

export function radixGeneric(
  st: Stage,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  rootRe: Float64Array,
  rootIm: Float64Array,
): void {
  const { radix: r, m, s, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const o = q + s * r * p;
      for (let j = 0; j < r; j++) {
        let accR = 0;
        let accI = 0;
        for (let k = 0; k < r; k++) {
          const idx = (j * k) % r;
          const vr = xr[i0 + k * sm] as number;
          const vi = xi[i0 + k * sm] as number;
          const cr = rootRe[idx] as number;
          const ci = rootIm[idx] as number;
          accR += vr * cr - vi * ci;
          accI += vr * ci + vi * cr;
        }
        if (j === 0) {
          yr[o] = accR;
          yi[o] = accI;
        } else {
          const wr = twRe[p * (r - 1) + j - 1] as number;
          const wi = twIm[p * (r - 1) + j - 1] as number;
          yr[o + j * s] = accR * wr - accI * wi;
          yi[o + j * s] = accR * wi + accI * wr;
        }
      }
    }
  }
}
