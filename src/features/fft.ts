/**
 * Fast Fourier transforms for any length: a self-sorting mixed-radix Stockham FFT (radix-4, 2,
 * 3 and 5 butterflies, a direct DFT butterfly for other prime factors; see fft-stages.ts) and a
 * real-input FFT that runs a half-length complex FFT and splits the result (the standard "two
 * real halves in one complex sequence" identity). For the default front end's 480-sample frames
 * the half-length transform is the twiddle-free prime-factor FFT of prime-factor-fft.ts. Plans
 * are built once per size and reused; transforms write into caller-provided buffers so hot
 * loops allocate nothing.
 *
 * Convention: forward transform `X[k] = Σₙ x[n]·e^(−2πi·k·n/N)`, unnormalised (as numpy/torch).
 *
 * @packageDocumentation
 */
import { checkInt } from '../validate.js';
import { radix2, radix3, radix4, radix5, radixGeneric, type Stage } from './fft-stages.js';
import {
  PRIME_FACTOR_SIZE,
  type PrimeFactorMaps,
  primeFactorFft,
  primeFactorMaps,
} from './prime-factor-fft.js';

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

  /**
   * Forward FFT of a real frame times a window, packed two samples per complex value:
   * z[n] = x[2n]·w[2n] + i·x[2n+1]·w[2n+1] with x = `frame[start .. start + 2·size)` and w =
   * `window[0 .. 2·size)`; the spectrum Z goes to (re, im). The half-length transform behind
   * {@link RealFft}'s windowed-frame methods; callers guarantee the frame and window are long
   * enough. @internal
   */
  forwardPackedFrame(
    frame: Float32Array,
    start: number,
    window: Float64Array,
    re: Float64Array,
    im: Float64Array,
  ): void {
    for (let i = 0; i < this.size; i++) {
      const j = start + 2 * i;
      re[i] = (frame[j] as number) * (window[2 * i] as number);
      im[i] = (frame[j + 1] as number) * (window[2 * i + 1] as number);
    }
    this.forward(re, im);
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
  /**
   * e^(−2πi·k/N) for k ≤ N/2, used to untangle the packed halves: real part at 2k, imaginary at
   * 2k + 1 (one array, so the untangling loop keeps one register pair fewer busy in V8).
   */
  private readonly split: Float64Array;
  /**
   * For N = 480 (the default front end) the windowed-frame methods run the half-length transform
   * as the twiddle-free prime-factor FFT (prime-factor-fft.ts: ~1.4× faster than windowing then
   * the 4·4·3·5 Stockham plan, and it reads the frame in place) with its own intermediate
   * buffers; null for other sizes. The other methods keep the Stockham plan.
   */
  private readonly primeFactor: PrimeFactorMaps | null;
  private readonly pfaScratch: Float64Array;

  constructor(size: number) {
    this.size = checkInt('size', size, 1);
    this.bins = Math.floor(size / 2) + 1;
    const even = size % 2 === 0 && size >= 2;
    const inner = even ? size / 2 : size;
    this.complex = new ComplexFft(inner);
    this.bufRe = new Float64Array(inner);
    this.bufIm = new Float64Array(inner);
    this.split = new Float64Array(even ? 2 * this.bins : 0);
    const primeFactor = size === 2 * PRIME_FACTOR_SIZE;
    this.primeFactor = primeFactor ? primeFactorMaps() : null;
    this.pfaScratch = new Float64Array(primeFactor ? 2 * PRIME_FACTOR_SIZE : 0);
    if (even) {
      for (let k = 0; k < this.bins; k++) {
        this.split[2 * k] = Math.cos((-2 * Math.PI * k) / size);
        this.split[2 * k + 1] = Math.sin((-2 * Math.PI * k) / size);
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
    this.complex.forward(this.bufRe, this.bufIm);
    this.untanglePower(out);
  }

  /**
   * Power spectrum `|X[k]|²`, k = 0 .. N/2, of `frame[start .. start + N)` multiplied by
   * `window` (length ≥ N) into `out` (length ≥ bins): windowing, packing, FFT, untangling and
   * squaring with the frame read once. Even N ≥ 2 only; the caller guarantees
   * `start + N ≤ frame.length`. The mel front end's per-frame kernel.
   */
  powerWindowed(frame: Float32Array, start: number, window: Float64Array, out: Float64Array): void {
    this.packedFrameFft(frame, start, window);
    this.untanglePower(out);
  }

  /**
   * Bins `0 .. N/2` of the FFT of `frame[start .. start + N)` multiplied by `window` into
   * `outRe`/`outIm`, as {@link RealFft.powerWindowed} but complex. Even N ≥ 2 only.
   */
  forwardWindowed(
    frame: Float32Array,
    start: number,
    window: Float64Array,
    outRe: Float64Array,
    outIm: Float64Array,
  ): void {
    this.packedFrameFft(frame, start, window);
    this.untangle(outRe, outIm);
  }

  /** Half-length FFT of the windowed, packed frame into (bufRe, bufIm). */
  private packedFrameFft(frame: Float32Array, start: number, window: Float64Array): void {
    if (this.primeFactor !== null) {
      primeFactorFft(frame, start, window, this.primeFactor, this.pfaScratch, this.bufRe, this.bufIm);
    } else {
      this.complex.forwardPackedFrame(frame, start, window, this.bufRe, this.bufIm);
    }
  }

  /** The squared-magnitude form of {@link RealFft.untangle} (see there for the identity). */
  private untanglePower(out: Float64Array): void {
    const half = this.size / 2;
    const zr = this.bufRe;
    const zi = this.bufIm;
    const w = this.split;
    const z0r = zr[0] as number;
    const z0i = zi[0] as number;
    out[0] = (z0r + z0i) * (z0r + z0i);
    out[half] = (z0r - z0i) * (z0r - z0i);
    // As untangle, on 2E and 2O: scaling by 2 is exact in floating point, so 0.25·|2X|² is
    // bit for bit |X|² and the four halvings per pair of bins become two quarterings.
    for (let k = 1, j = half - 1; k <= j; k++, j--) {
      const akr = zr[k] as number;
      const aki = zi[k] as number;
      const ajr = zr[j] as number;
      const aji = zi[j] as number;
      const er = akr + ajr;
      const ei = aki - aji;
      const or = aki + aji;
      const oi = ajr - akr;
      const wr = w[2 * k] as number;
      const wi = w[2 * k + 1] as number;
      const tr = or * wr - oi * wi;
      const ti = or * wi + oi * wr;
      const xr = er + tr;
      const xi = ei + ti;
      const yr = er - tr;
      const yi = ei - ti;
      out[k] = 0.25 * (xr * xr + xi * xi);
      out[j] = 0.25 * (yr * yr + yi * yi);
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
    const w = this.split;
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
      const wr = w[2 * k] as number;
      const wi = w[2 * k + 1] as number;
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
