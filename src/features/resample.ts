/**
 * Band-limited sample-rate conversion by any rational ratio: a polyphase windowed-sinc filter
 * (Kaiser window), the design of Smith's "Digital Audio Resampling" (bandlimited interpolation)
 * as used by torchaudio's `sinc_interp_kaiser` and resampy.
 *
 * After reducing the rates by their GCD to `up / down`, output sample n sits at input time
 * `t_n = n·down/up` (in input samples) and is
 *
 *     y[n] = Σ_k x[k] · h(t_n − k),   h(t) = f_c·sinc(f_c·t) · kaiser(t / W),
 *
 * where `f_c = rolloff · min(up, down) / down` is the cutoff in cycles per input sample times two
 * (so the passband ends at `rolloff` × the lower of the two Nyquist frequencies),
 * `W = lowpassFilterWidth / f_c` is the half-length in input samples and samples outside the
 * signal are zeros. `t_n − k` only takes `up` distinct fractional values, so the taps are
 * precomputed once per ratio as an `up × taps` table (the polyphase bank) and cached.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkInt, checkNumber, checkOptions, checkSampleRate, checkSignal } from '../validate.js';
import { dot } from './dot.js';

/** Options of {@link resample} and {@link Resampler}. */
export interface ResampleOptions {
  /**
   * Cutoff (the −6 dB point) as a fraction of the lower Nyquist frequency, in (0, 1].
   * Default `0.945`. With the default width and β, for 48 kHz → 16 kHz this gives: flat
   * (< 0.001 dB) up to 6.7 kHz, −0.2 dB at 7 kHz, −6 dB at 7.56 kHz, −31 dB at 8 kHz and
   * ≥ 85 dB of attenuation from 8.45 kHz, so aliases only reach the top 0.45 kHz of the band.
   */
  rolloff?: number;
  /**
   * Zero crossings of the sinc kept on each side of the centre, an integer in [1, 256]. The
   * filter spans `2·lowpassFilterWidth` periods of the cutoff; more gives a sharper transition
   * and costs proportionally more time. Default `24`.
   */
  lowpassFilterWidth?: number;
  /**
   * Kaiser window β, in [0, 40]. Larger trades a wider transition for a deeper stopband
   * (roughly `A ≈ β / 0.1102 + 8.7` dB, Kaiser's formula). Default `8.6` (≈ 87 dB).
   */
  beta?: number;
}

const DEFAULT_ROLLOFF = 0.945;
const DEFAULT_WIDTH = 24;
const DEFAULT_BETA = 8.6;
/** Largest polyphase table kept in memory (floats); beyond it taps are computed per output. */
const MAX_TABLE_FLOATS = 1 << 20;
/** Refuse ratios whose filter would be absurdly long (e.g. 1 MHz → 1 Hz). */
const MAX_TAPS = 1 << 20;
const CACHE_SIZE = 8;

interface Resolved {
  rolloff: number;
  width: number;
  beta: number;
}

/** A polyphase filter bank for one reduced ratio `up / down` and one set of options. */
interface FilterBank {
  up: number;
  down: number;
  /** Taps per output sample, `2·half + 1`. */
  taps: number;
  /** Input samples before the centre sample that each output reads. */
  half: number;
  /** Integer part of `down / up`: input samples the read position advances per output. */
  stepInt: number;
  /** `down mod up`: phase advance per output. */
  stepFrac: number;
  cutoff: number;
  halfWidth: number;
  beta: number;
  i0Beta: number;
  /** `up × taps` coefficients, phase-major; null when too large, then taps are computed on the fly. */
  table: Float32Array | null;
  /** One phase's taps, used when `table` is null. */
  scratch: Float32Array;
  /** Double-precision workspace of {@link fillPhase}. */
  work: Float64Array;
}

/** Modified Bessel function of the first kind, order 0, by its power series (x ≥ 0, x ≲ 50). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** Writes the taps of phase `phase` into `out[offset .. offset + taps)`, normalised to sum 1. */
function fillPhase(bank: FilterBank, phase: number, out: Float32Array, offset: number): void {
  const { taps, half, up, cutoff, halfWidth, beta, i0Beta } = bank;
  const frac = phase / up;
  let sum = 0;
  const values = bank.work;
  values.fill(0);
  for (let i = 0; i < taps; i++) {
    const t = frac - (i - half);
    const r = t / halfWidth;
    if (r <= -1 || r >= 1) continue;
    const sinc = t === 0 ? cutoff : Math.sin(Math.PI * cutoff * t) / (Math.PI * t);
    const v = (sinc * besselI0(beta * Math.sqrt(1 - r * r))) / i0Beta;
    values[i] = v;
    sum += v;
  }
  // Each phase sums to ≈1 already (the windowed sinc's response at multiples of the input rate
  // is deep in its stopband); making it exactly 1 keeps DC exact and the phases' gains equal.
  const scale = sum === 0 ? 0 : 1 / sum;
  for (let i = 0; i < taps; i++) out[offset + i] = (values[i] as number) * scale;
}

function makeBank(up: number, down: number, opts: Resolved): FilterBank {
  const cutoff = (opts.rolloff * Math.min(up, down)) / down;
  const halfWidth = opts.width / cutoff;
  const half = Math.ceil(halfWidth);
  const taps = 2 * half + 1;
  if (taps > MAX_TAPS) {
    throw new KwsError(
      'INVALID_SAMPLE_RATE',
      `downsampling by ${down}/${up} needs a ${taps}-tap filter, more than the ${MAX_TAPS} allowed; ` +
        'resample in several steps or lower lowpassFilterWidth',
    );
  }
  const bank: FilterBank = {
    up,
    down,
    taps,
    half,
    stepInt: Math.floor(down / up),
    stepFrac: down % up,
    cutoff,
    halfWidth,
    beta: opts.beta,
    i0Beta: besselI0(opts.beta),
    table: null,
    scratch: new Float32Array(taps),
    work: new Float64Array(taps),
  };
  if (up * taps <= MAX_TABLE_FLOATS) {
    const table = new Float32Array(up * taps);
    for (let p = 0; p < up; p++) fillPhase(bank, p, table, p * taps);
    bank.table = table;
  }
  return bank;
}

const bankCache = new Map<string, FilterBank>();

/** The bank for a reduced ratio and options, from a small LRU cache (streams reuse it). */
function getBank(up: number, down: number, opts: Resolved): FilterBank {
  const key = `${up}/${down}/${opts.rolloff}/${opts.width}/${opts.beta}`;
  const hit = bankCache.get(key);
  if (hit !== undefined) {
    bankCache.delete(key);
    bankCache.set(key, hit);
    return hit;
  }
  const bank = makeBank(up, down, opts);
  bankCache.set(key, bank);
  if (bankCache.size > CACHE_SIZE) {
    const oldest = bankCache.keys().next().value;
    if (oldest !== undefined) bankCache.delete(oldest);
  }
  return bank;
}

function checkRate(name: string, value: unknown): number {
  const rate = checkSampleRate(name, value);
  if (!Number.isSafeInteger(rate)) {
    throw new KwsError(
      'INVALID_SAMPLE_RATE',
      `${name} must be a positive integer number of Hz (resampling uses the exact ratio of the two rates); got ${rate}`,
    );
  }
  return rate;
}

function resolveOptions(options: ResampleOptions | undefined): Resolved {
  const o = checkOptions('options', options);
  return {
    rolloff: checkNumber('options.rolloff', o.rolloff ?? DEFAULT_ROLLOFF, 0, 1, true),
    width: checkInt('options.lowpassFilterWidth', o.lowpassFilterWidth ?? DEFAULT_WIDTH, 1, 256),
    beta: checkNumber('options.beta', o.beta ?? DEFAULT_BETA, 0, 40),
  };
}

/** `ceil(n·up / down)` exactly, also when `n·up` exceeds 2^53. */
function ceilRatio(n: number, up: number, down: number): number {
  const product = n * up;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor((product + down - 1) / down);
  return Number((BigInt(n) * BigInt(up) + BigInt(down - 1)) / BigInt(down));
}

/**
 * Number of samples {@link resample} returns for `inputLength` samples:
 * `ceil(inputLength · toRate / fromRate)`, the convention of torchaudio and librosa. It counts
 * the output instants `n / toRate` that fall before the end of the input, `inputLength / fromRate`.
 *
 * @param inputLength input samples, an integer ≥ 0.
 * @param fromRate input sample rate in Hz (positive integer).
 * @param toRate output sample rate in Hz (positive integer).
 */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  checkInt('inputLength', inputLength, 0);
  const from = checkRate('fromRate', fromRate);
  const to = checkRate('toRate', toRate);
  const g = gcd(from, to);
  return ceilRatio(inputLength, to / g, from / g);
}

/** Read position of the next output: `buf[start]` is the first input sample it reads. */
interface Cursor {
  start: number;
  phase: number;
}

/**
 * Computes `count` outputs into `out[outOffset ..]`, advancing `cursor`. The one kernel used by
 * both {@link resample} and {@link Resampler}, so the two agree bit for bit.
 */
function runBank(
  bank: FilterBank,
  buf: Float32Array,
  cursor: Cursor,
  count: number,
  out: Float32Array,
  outOffset: number,
): void {
  const { taps, up, stepInt, stepFrac, table } = bank;
  let { start, phase } = cursor;
  for (let n = 0; n < count; n++) {
    let coef: Float32Array;
    let c: number;
    if (table !== null) {
      coef = table;
      c = phase * taps;
    } else {
      coef = bank.scratch;
      fillPhase(bank, phase, coef, 0);
      c = 0;
    }
    out[outOffset + n] = dot(buf, start, coef, c, taps);
    start += stepInt;
    phase += stepFrac;
    if (phase >= up) {
      phase -= up;
      start++;
    }
  }
  cursor.start = start;
  cursor.phase = phase;
}

/**
 * Resamples `signal` from `fromRate` to `toRate` Hz with a band-limited polyphase windowed-sinc
 * filter (see the module notes for the formula and {@link ResampleOptions} for the defaults).
 * Samples before the start and after the end count as zeros, so the first and last
 * `lowpassFilterWidth` periods of the cutoff are tapered as in torchaudio.
 *
 * Output length is `ceil(signal.length · toRate / fromRate)` ({@link resampledLength}), as with
 * `torchaudio.functional.resample` and `librosa.resample`. An empty signal gives an empty
 * result; equal rates give a copy. The filter bank is built once per ratio and options and
 * cached, so repeated calls cost only the convolution (≈ `toRate · taps` multiply-adds per
 * second of audio; taps ≈ 2·lowpassFilterWidth·max(1, fromRate/toRate)/rolloff).
 *
 * @param signal mono samples (any scale; must be finite).
 * @param fromRate rate of `signal` in Hz, a positive integer.
 * @param toRate wanted rate in Hz, a positive integer.
 * @returns the resampled signal at `toRate`.
 * @throws KwsError `INVALID_SAMPLE_RATE` for a rate that is not a positive integer,
 *   `INVALID_ARGUMENT` for a non-Float32Array or bad options, `NON_FINITE_INPUT` for NaN/±Inf.
 *
 * @example
 * ```ts
 * const audio16k = resample(audio44k, 44100, 16000);
 * ```
 */
export function resample(
  signal: Float32Array,
  fromRate: number,
  toRate: number,
  options?: ResampleOptions,
): Float32Array {
  checkSignal('signal', signal, true);
  const from = checkRate('fromRate', fromRate);
  const to = checkRate('toRate', toRate);
  const opts = resolveOptions(options);
  if (from === to) return signal.slice();
  if (signal.length === 0) return new Float32Array(0);
  const g = gcd(from, to);
  const bank = getBank(to / g, from / g, opts);
  const n = signal.length;
  const outLength = ceilRatio(n, bank.up, bank.down);
  // Zeros around the signal stand for the silence before and after it; the last output reads
  // up to index (n − 1) + 2·half of the padded buffer.
  const padded = new Float32Array(n + 2 * bank.half + 1);
  padded.set(signal, bank.half);
  const out = new Float32Array(outLength);
  runBank(bank, padded, { start: 0, phase: 0 }, outLength, out, 0);
  return out;
}

/**
 * Streaming version of {@link resample}: feed audio in chunks of any length and get the output
 * samples that became computable. For any chunking, the concatenation of every
 * {@link Resampler.process} result followed by {@link Resampler.flush} is bit-identical to
 * `resample(wholeSignal, fromRate, toRate, options)` (same filter bank, same kernel).
 *
 * Latency: an output sample needs the input up to `half` samples after its centre
 * (`half = ⌈lowpassFilterWidth / f_c⌉`, e.g. 71 input samples (1.6 ms) for 44.1 kHz → 16 kHz with the
 * defaults, see {@link Resampler.lookahead}). Between calls only that filter history
 * (fewer than `2·half + 1` samples) is kept.
 *
 * @example
 * ```ts
 * const rs = new Resampler(48000, 16000);
 * for (const chunk of chunks) sink(rs.process(chunk));
 * sink(rs.flush());
 * ```
 */
export class Resampler {
  /** Input rate in Hz. */
  readonly fromRate: number;
  /** Output rate in Hz. */
  readonly toRate: number;
  /** Input samples after an output's centre that must arrive before it is emitted (0 if rates are equal). */
  readonly lookahead: number;
  private readonly bank: FilterBank | null;
  private buf: Float32Array;
  private bufLength = 0;
  private readonly cursor: Cursor = { start: 0, phase: 0 };
  private received = 0;
  private emitted = 0;

  /**
   * @param fromRate input rate in Hz, a positive integer.
   * @param toRate output rate in Hz, a positive integer.
   * @param options filter design, as for {@link resample}.
   */
  constructor(fromRate: number, toRate: number, options?: ResampleOptions) {
    this.fromRate = checkRate('fromRate', fromRate);
    this.toRate = checkRate('toRate', toRate);
    const opts = resolveOptions(options);
    if (this.fromRate === this.toRate) {
      this.bank = null;
      this.lookahead = 0;
      this.buf = new Float32Array(0);
    } else {
      const g = gcd(this.fromRate, this.toRate);
      this.bank = getBank(this.toRate / g, this.fromRate / g, opts);
      this.lookahead = this.bank.half;
      this.buf = new Float32Array(2 * this.bank.taps);
    }
    this.reset();
  }

  /**
   * Appends `chunk` (may be empty) and returns the output samples whose filter window is now
   * complete; possibly none.
   *
   * @throws KwsError `INVALID_ARGUMENT` for a non-Float32Array, `NON_FINITE_INPUT` for NaN/±Inf.
   */
  process(chunk: Float32Array): Float32Array {
    checkSignal('chunk', chunk, true);
    const bank = this.bank;
    if (bank === null) return chunk.slice();
    this.append(chunk);
    this.received += chunk.length;
    // Output n is ready once the last sample it reads, buf[start + taps − 1], has arrived.
    const count = this.countReady(bank);
    const out = new Float32Array(count);
    runBank(bank, this.buf, this.cursor, count, out, 0);
    this.emitted += count;
    this.compact(bank);
    return out;
  }

  /**
   * Ends the stream: returns the remaining output samples, computed as if zeros followed the
   * input (as {@link resample} does at the end of a signal), then resets so the object can
   * take a new stream. The total output is `ceil(inputSamples · toRate / fromRate)`.
   */
  flush(): Float32Array {
    const bank = this.bank;
    if (bank === null) return new Float32Array(0);
    const total = ceilRatio(this.received, bank.up, bank.down);
    const count = total - this.emitted;
    let out = new Float32Array(0);
    if (count > 0) {
      // The last output starts reading at most `taps − 1` samples before the end of the input.
      this.append(new Float32Array(bank.half + 1));
      out = new Float32Array(count);
      runBank(bank, this.buf, this.cursor, count, out, 0);
    }
    this.reset();
    return out;
  }

  /** Forgets all input: the next {@link Resampler.process} starts a new stream. */
  reset(): void {
    this.received = 0;
    this.emitted = 0;
    this.cursor.start = 0;
    this.cursor.phase = 0;
    if (this.bank === null) return;
    // Stands for the silence before the stream, as the padding in resample().
    this.bufLength = this.bank.half;
    this.buf.fill(0, 0, this.bufLength);
  }

  /** Outputs computable from the buffered input, found by stepping the cursor (integers only). */
  private countReady(bank: FilterBank): number {
    const last = this.bufLength - bank.taps;
    let { start, phase } = this.cursor;
    let count = 0;
    while (start <= last) {
      count++;
      start += bank.stepInt;
      phase += bank.stepFrac;
      if (phase >= bank.up) {
        phase -= bank.up;
        start++;
      }
    }
    return count;
  }

  private append(samples: Float32Array): void {
    const needed = this.bufLength + samples.length;
    if (needed > this.buf.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.bufLength));
      this.buf = grown;
    }
    this.buf.set(samples, this.bufLength);
    this.bufLength = needed;
  }

  /** Drops input no future output reads, and gives back memory a large chunk made us take. */
  private compact(bank: FilterBank): void {
    const start = this.cursor.start;
    const keep = this.bufLength - start;
    const small = 2 * bank.taps;
    if (this.buf.length > 4 * small && keep <= small) {
      const fresh = new Float32Array(small);
      fresh.set(this.buf.subarray(start, this.bufLength));
      this.buf = fresh;
    } else if (start > 0) {
      this.buf.copyWithin(0, start, this.bufLength);
    }
    this.bufLength = keep;
    this.cursor.start = 0;
  }
}
