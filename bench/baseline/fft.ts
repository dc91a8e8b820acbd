/**
 * Fast Fourier transforms for any length: a self-sorting mixed-radix Stockham FFT (radix-4, 2,
 * 3 and 5 butterflies, a direct DFT butterfly for other prime factors) and a real-input FFT
 * that runs a half-length complex FFT and splits the result (the standard "two real halves in
 * one complex sequence" identity). Plans are built once per size and reused; transforms write
 * into caller-provided buffers so hot loops allocate nothing.
 *
 * Convention: forward transform `X[k] = Σₙ x[n]·e^(−2πi·k·n/N)`, unnormalised (as numpy/torch).
 *
 * @packageDocumentation
 */
import { checkInt } from '../../src/validate.js';

interface Stage {
  radix: number;
  /** Sub-sequence count m = n / radix at this stage. */
  m: number;
  /** Stride s: product of the radices of the earlier stages. */
  s: number;
  /** Twiddles ω_n^(j·p) for p in [0, m), j in [1, radix): index p·(radix−1) + (j−1). */
  twRe: Float64Array;
  twIm: Float64Array;
}

function factorize(n: number): number[] {
  const radices: number[] = [];
  let rest = n;
  while (rest % 4 === 0) {
    radices.push(4);
    rest /= 4;
  }
  for (const p of [2, 3, 5]) {
    while (rest % p === 0) {
      radices.push(p);
      rest /= p;
    }
  }
  for (let p = 7; p * p <= rest; p += 2) {
    while (rest % p === 0) {
      radices.push(p);
      rest /= p;
    }
  }
  if (rest > 1) radices.push(rest);
  return radices;
}

/**
 * A complex FFT plan of fixed length. `forward(re, im)` transforms in place using internal
 * scratch; inputs are Float64Array for accuracy (the front end accumulates in double).
 */
export class ComplexFft {
  /** Transform length. */
  readonly size: number;
  private readonly stages: Stage[];
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;
  /** cos/sin of 2π·k/r for generic prime radices, keyed by radix. */
  private readonly rootsRe = new Map<number, Float64Array>();
  private readonly rootsIm = new Map<number, Float64Array>();

  constructor(size: number) {
    this.size = checkInt('size', size, 1);
    this.scratchRe = new Float64Array(size);
    this.scratchIm = new Float64Array(size);
    this.stages = [];
    let n = size;
    let s = 1;
    for (const radix of factorize(size)) {
      const m = n / radix;
      const twRe = new Float64Array(m * (radix - 1));
      const twIm = new Float64Array(m * (radix - 1));
      for (let p = 0; p < m; p++) {
        for (let j = 1; j < radix; j++) {
          const angle = (-2 * Math.PI * j * p) / n;
          twRe[p * (radix - 1) + j - 1] = Math.cos(angle);
          twIm[p * (radix - 1) + j - 1] = Math.sin(angle);
        }
      }
      this.stages.push({ radix, m, s, twRe, twIm });
      if (radix > 5 && !this.rootsRe.has(radix)) {
        const rr = new Float64Array(radix);
        const ri = new Float64Array(radix);
        for (let k = 0; k < radix; k++) {
          rr[k] = Math.cos((-2 * Math.PI * k) / radix);
          ri[k] = Math.sin((-2 * Math.PI * k) / radix);
        }
        this.rootsRe.set(radix, rr);
        this.rootsIm.set(radix, ri);
      }
      n = m;
      s *= radix;
    }
  }

  /** Forward FFT of (re, im) in place. Both arrays must have length ≥ `size`. */
  forward(re: Float64Array, im: Float64Array): void {
    let xr = re;
    let xi = im;
    let yr = this.scratchRe;
    let yi = this.scratchIm;
    for (const stage of this.stages) {
      switch (stage.radix) {
        case 4:
          radix4(stage, xr, xi, yr, yi);
          break;
        case 2:
          radix2(stage, xr, xi, yr, yi);
          break;
        case 3:
          radix3(stage, xr, xi, yr, yi);
          break;
        case 5:
          radix5(stage, xr, xi, yr, yi);
          break;
        default:
          radixGeneric(
            stage,
            xr,
            xi,
            yr,
            yi,
            this.rootsRe.get(stage.radix) as Float64Array,
            this.rootsIm.get(stage.radix) as Float64Array,
          );
      }
      const tr = xr;
      const ti = xi;
      xr = yr;
      xi = yi;
      yr = tr;
      yi = ti;
    }
    if (xr !== re) {
      re.set(xr.subarray(0, this.size));
      im.set(xi.subarray(0, this.size));
    }
  }
}

// Stockham decimation-in-frequency stage: for p < m, q < s, read x[q + s·(p + k·m)] for k < r,
// write y[q + s·(r·p + j)] = ω_n^(j·p) · Σₖ x_k·ω_r^(j·k). The output lands in natural order.

function radix2(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
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

function radix4(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
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

const SIN_60 = Math.sqrt(3) / 2;

function radix3(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
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

const C1_5 = Math.cos((2 * Math.PI) / 5);
const C2_5 = Math.cos((4 * Math.PI) / 5);
const S1_5 = Math.sin((2 * Math.PI) / 5);
const S2_5 = Math.sin((4 * Math.PI) / 5);

function radix5(st: Stage, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
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

function radixGeneric(
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

/**
 * A real-input FFT plan of fixed length N. {@link RealFft.forward} gives the N/2 + 1 non-negative
 * frequency bins (the rest are conjugate-symmetric). Even N runs an N/2-point complex FFT on the
 * samples packed as `x[2n] + i·x[2n+1]` and untangles the two halves; odd N falls back to an
 * N-point complex FFT.
 */
export class RealFft {
  /** Transform length N (samples in). */
  readonly size: number;
  /** Bins out: ⌊N/2⌋ + 1. */
  readonly bins: number;
  private readonly complex: ComplexFft;
  private readonly bufRe: Float64Array;
  private readonly bufIm: Float64Array;
  /** e^(−2πi·k/N) for k ≤ N/2, used to untangle the packed halves. */
  private readonly splitRe: Float64Array;
  private readonly splitIm: Float64Array;

  constructor(size: number) {
    this.size = checkInt('size', size, 1);
    this.bins = Math.floor(size / 2) + 1;
    const even = size % 2 === 0 && size >= 2;
    const inner = even ? size / 2 : size;
    this.complex = new ComplexFft(inner);
    this.bufRe = new Float64Array(inner);
    this.bufIm = new Float64Array(inner);
    this.splitRe = new Float64Array(even ? this.bins : 0);
    this.splitIm = new Float64Array(even ? this.bins : 0);
    if (even) {
      for (let k = 0; k < this.bins; k++) {
        this.splitRe[k] = Math.cos((-2 * Math.PI * k) / size);
        this.splitIm[k] = Math.sin((-2 * Math.PI * k) / size);
      }
    }
  }

  /**
   * Transforms `input[offset .. offset + N)` (missing samples read as 0) and writes bins
   * `0 .. N/2` into `outRe`/`outIm` (length ≥ {@link RealFft.bins}).
   */
  forward(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array, offset = 0): void {
    const n = this.size;
    const re = this.bufRe;
    const im = this.bufIm;
    if (n % 2 !== 0 || n < 2) {
      for (let i = 0; i < n; i++) {
        re[i] = (input[offset + i] as number) ?? 0;
        im[i] = 0;
      }
      this.complex.forward(re, im);
      for (let k = 0; k < this.bins; k++) {
        outRe[k] = re[k] as number;
        outIm[k] = im[k] as number;
      }
      return;
    }
    const half = n / 2;
    for (let i = 0; i < half; i++) {
      re[i] = (input[offset + 2 * i] as number) ?? 0;
      im[i] = (input[offset + 2 * i + 1] as number) ?? 0;
    }
    this.complex.forward(re, im);
    this.untangle(outRe, outIm);
  }

  /**
   * Like {@link RealFft.forward} for a frame already multiplied by its window and packed by the
   * caller into the plan's own buffers (see {@link RealFft.packedRe}); saves one copy per frame.
   */
  forwardPacked(outRe: Float64Array, outIm: Float64Array): void {
    this.complex.forward(this.bufRe, this.bufIm);
    this.untangle(outRe, outIm);
  }

  /**
   * Power spectrum `|X[k]|²` of the packed input (see {@link RealFft.packedRe}) into `out`
   * (length ≥ bins): the untangling and squaring in one pass, for the mel front end's hot loop.
   */
  powerPacked(out: Float64Array): void {
    const half = this.size / 2;
    this.complex.forward(this.bufRe, this.bufIm);
    const zr = this.bufRe;
    const zi = this.bufIm;
    const cr = this.splitRe;
    const ci = this.splitIm;
    const z0r = zr[0] as number;
    const z0i = zi[0] as number;
    out[0] = (z0r + z0i) * (z0r + z0i);
    out[half] = (z0r - z0i) * (z0r - z0i);
    for (let k = 1, j = half - 1; k <= j; k++, j--) {
      const akr = zr[k] as number;
      const aki = zi[k] as number;
      const ajr = zr[j] as number;
      const aji = zi[j] as number;
      const er = 0.5 * (akr + ajr);
      const ei = 0.5 * (aki - aji);
      const or = 0.5 * (aki + aji);
      const oi = -0.5 * (akr - ajr);
      const wr = cr[k] as number;
      const wi = ci[k] as number;
      const tr = or * wr - oi * wi;
      const ti = or * wi + oi * wr;
      const xr = er + tr;
      const xi = ei + ti;
      const yr = er - tr;
      const yi = ei - ti;
      out[k] = xr * xr + xi * xi;
      out[j] = yr * yr + yi * yi;
    }
  }

  /**
   * Real half of the internal input buffer of {@link RealFft.forwardPacked}: for even N, sample
   * 2n goes to `packedRe[n]` and sample 2n+1 to `packedIm[n]`. Only meaningful for even N ≥ 2.
   */
  get packedRe(): Float64Array {
    return this.bufRe;
  }

  /** Imaginary half of the packed input; see {@link RealFft.packedRe}. */
  get packedIm(): Float64Array {
    return this.bufIm;
  }

  private untangle(outRe: Float64Array, outIm: Float64Array): void {
    const half = this.size / 2;
    const zr = this.bufRe;
    const zi = this.bufIm;
    const cr = this.splitRe;
    const ci = this.splitIm;
    // X[k] = E[k] + e^(−2πik/N)·O[k] with E = (Z[k] + conj Z[half−k])/2 (spectrum of the even
    // samples) and O = (Z[k] − conj Z[half−k])/(2i) (odd samples). Bins k and half−k share
    // their E and O up to conjugation, so each pass of the loop writes both.
    const z0r = zr[0] as number;
    const z0i = zi[0] as number;
    outRe[0] = z0r + z0i;
    outIm[0] = 0;
    outRe[half] = z0r - z0i;
    outIm[half] = 0;
    for (let k = 1, j = half - 1; k <= j; k++, j--) {
      const akr = zr[k] as number;
      const aki = zi[k] as number;
      const ajr = zr[j] as number;
      const aji = zi[j] as number;
      const er = 0.5 * (akr + ajr);
      const ei = 0.5 * (aki - aji);
      const or = 0.5 * (aki + aji);
      const oi = -0.5 * (akr - ajr);
      const wr = cr[k] as number;
      const wi = ci[k] as number;
      const tr = or * wr - oi * wi;
      const ti = or * wi + oi * wr;
      outRe[k] = er + tr;
      outIm[k] = ei + ti;
      // For bin j = half − k: E[j] = conj E[k], O[j] = conj O[k], and the twiddle is
      // e^(−2πi(half−k)/N) = −conj(e^(−2πik/N)), so X[j] = conj(E[k] − w_k·O[k]).
      outRe[j] = er - tr;
      outIm[j] = -(ei - ti);
    }
  }
}
