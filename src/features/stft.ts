/**
 * Short-time Fourier transform and (power) spectrogram with torch/torchaudio semantics
 * (`torch.stft`, `torchaudio.functional.spectrogram`): frames of `nFft` samples every
 * `hopLength`, a `winLength` window zero-padded to `nFft` in the centre, and with `center`
 * the signal padded by ⌊nFft/2⌋ at both ends so that frame t is centred on sample t·hop.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import { checkBoolean, checkChoice, checkInt, checkOptions, checkSignal } from '../validate.js';
import { RealFft } from './fft.js';
import type { PadMode, Spectrogram, WindowName } from './types.js';
import { windowNames, windowValues } from './window.js';

/** Options of {@link stft}. Defaults follow `torch.stft` as torchaudio calls it. */
export interface StftOptions {
  /** FFT size in samples. Default 400. */
  nFft?: number;
  /** Window length in samples, ≤ nFft. Default `nFft`. */
  winLength?: number;
  /** Hop between frames in samples. Default ⌊winLength / 2⌋. */
  hopLength?: number;
  /** Window name or explicit window of `winLength` samples. Default `'hann'` (periodic). */
  window?: WindowName | Float32Array;
  /** Pad ⌊nFft/2⌋ samples at both ends so frames are centred on t·hop. Default true. */
  center?: boolean;
  /** Padding used when `center` is true. Default `'reflect'`. */
  padMode?: PadMode;
}

/** Options of {@link spectrogram}: {@link StftOptions} plus the exponent of the magnitude. */
export interface SpectrogramOptions extends StftOptions {
  /** 2 for power |X|², 1 for magnitude |X|. Default 2. */
  power?: 1 | 2;
}

/** Complex STFT, frame-major: bin b of frame t is `real[t * bins + b] + i·imag[t * bins + b]`. */
export interface ComplexSpectrogram {
  real: Float32Array;
  imag: Float32Array;
  frames: number;
  /** nFft / 2 + 1. */
  bins: number;
}

/** Fully resolved STFT options. @internal */
export interface ResolvedStft {
  nFft: number;
  winLength: number;
  hopLength: number;
  center: boolean;
  padMode: PadMode;
  /** The window zero-padded to nFft, centred (torch's convention). */
  window: Float64Array;
  windowKey: string;
}

/** Validates and fills in defaults. @internal */
export function resolveStftOptions(options: StftOptions | undefined): ResolvedStft {
  const o = checkOptions('options', options);
  const nFft = checkInt('nFft', o.nFft ?? 400, 2, 1 << 20);
  const winLength = checkInt('winLength', o.winLength ?? nFft, 1, 1 << 20);
  if (winLength > nFft) {
    throw new KwsError(
      'INVALID_FFT_SIZE',
      `nFft (${nFft}) must be >= winLength (${winLength}); raise nFft or shorten the window`,
    );
  }
  const hopLength = checkInt('hopLength', o.hopLength ?? Math.max(1, Math.floor(winLength / 2)), 1, 1 << 20);
  const center = checkBoolean('center', o.center ?? true);
  const padMode = checkChoice<PadMode>('padMode', o.padMode ?? 'reflect', ['reflect', 'constant']);
  let win: Float32Array | Float64Array;
  let windowKey: string;
  if (o.window instanceof Float32Array) {
    if (o.window.length !== winLength) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `window has ${o.window.length} samples but winLength is ${winLength}; they must be equal`,
      );
    }
    checkSignal('window', o.window);
    win = o.window;
    windowKey = `custom:${Array.from(win).join(',')}`;
  } else {
    const name = checkChoice<WindowName>('window', o.window ?? 'hann', windowNames());
    win = windowValues(name, winLength);
    windowKey = name;
  }
  const window = new Float64Array(nFft);
  const left = Math.floor((nFft - winLength) / 2);
  for (let i = 0; i < winLength; i++) window[left + i] = win[i] as number;
  return { nFft, winLength, hopLength, center, padMode, window, windowKey };
}

/**
 * Number of frames {@link stft} produces for `length` samples:
 * `1 + ⌊(length + 2·pad − nFft) / hop⌋` with pad = ⌊nFft/2⌋ if `center`, else 0.
 * Zero when the (padded) signal is shorter than one frame.
 */
export function frameCount(length: number, nFft: number, hopLength: number, center: boolean): number {
  const padded = length + (center ? 2 * Math.floor(nFft / 2) : 0);
  return padded < nFft ? 0 : 1 + Math.floor((padded - nFft) / hopLength);
}

/**
 * Returns the signal padded for centred frames (or itself when `center` is false), written into
 * `scratch` when it is long enough. @internal
 */
export function padForStft(signal: Float32Array, r: ResolvedStft, scratch?: Float32Array): Float32Array {
  if (!r.center) {
    if (signal.length < r.nFft) {
      throw new KwsError(
        'SIGNAL_TOO_SHORT',
        `signal has ${signal.length} samples, fewer than nFft (${r.nFft}) with center=false; pass at least nFft samples or use center=true`,
      );
    }
    return signal;
  }
  const pad = Math.floor(r.nFft / 2);
  const n = signal.length;
  if (r.padMode === 'reflect' && pad >= n) {
    throw new KwsError(
      'SIGNAL_TOO_SHORT',
      `reflect padding needs more than nFft/2 = ${pad} samples; got ${n}. Use padMode 'constant' or a longer signal`,
    );
  }
  // A caller-owned scratch buffer saves an allocation per clip in batch feature extraction.
  const out =
    scratch && scratch.length >= n + 2 * pad
      ? scratch.subarray(0, n + 2 * pad)
      : new Float32Array(n + 2 * pad);
  out.set(signal, pad);
  if (r.padMode === 'constant') {
    out.fill(0, 0, pad);
    out.fill(0, pad + n);
  } else {
    // Reflection without repeating the edge sample: x[-k] = x[k], x[n-1+k] = x[n-1-k].
    for (let k = 1; k <= pad; k++) {
      out[pad - k] = signal[k] as number;
      out[pad + n - 1 + k] = signal[n - 1 - k] as number;
    }
  }
  return out;
}

const fftPlans = new Map<number, RealFft>();

/** A cached real-FFT plan. Plans are immutable apart from scratch buffers used synchronously. @internal */
export function realFftPlan(nFft: number): RealFft {
  let plan = fftPlans.get(nFft);
  if (!plan) {
    if (fftPlans.size >= 16) fftPlans.clear();
    plan = new RealFft(nFft);
    fftPlans.set(nFft, plan);
  }
  return plan;
}

/**
 * Windowed FFT of one frame `padded[start .. start + nFft)` into `re`/`im` (nFft/2 + 1 bins).
 * The shared kernel of the offline STFT and the streaming extractor, so both give identical
 * numbers. @internal
 */
export function analyzeFrame(
  padded: Float32Array,
  start: number,
  r: ResolvedStft,
  plan: RealFft,
  re: Float64Array,
  im: Float64Array,
): void {
  const n = r.nFft;
  if (n % 2 === 0) {
    plan.forwardWindowed(padded, start, r.window, re, im);
  } else {
    const frame = new Float64Array(n);
    for (let j = 0; j < n; j++) frame[j] = (padded[start + j] as number) * (r.window[j] as number);
    plan.forward(frame, re, im);
  }
}

/**
 * `|X|^power` of one windowed frame into `out` (nFft/2 + 1 bins); for even nFft the untangling
 * and squaring happen in one pass. Used by the mel front end, offline and streaming alike.
 * `re`/`im` are scratch for odd nFft. @internal
 */
export function framePower(
  padded: Float32Array,
  start: number,
  r: ResolvedStft,
  plan: RealFft,
  power: 1 | 2,
  out: Float64Array,
  re: Float64Array,
  im: Float64Array,
): void {
  if (r.nFft % 2 === 0) {
    plan.powerWindowed(padded, start, r.window, out);
  } else {
    analyzeFrame(padded, start, r, plan, re, im);
    for (let k = 0; k < out.length; k++) out[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
  }
  if (power === 1) for (let k = 0; k < out.length; k++) out[k] = Math.sqrt(out[k] as number);
}

/**
 * Runs `visit(frameIndex, re, im)` for every frame of the STFT of `signal`. The `re`/`im`
 * buffers are reused between calls. @internal
 */
export function forEachFrame(
  signal: Float32Array,
  r: ResolvedStft,
  visit: (frame: number, re: Float64Array, im: Float64Array) => void,
): number {
  const padded = padForStft(signal, r);
  const frames = frameCount(signal.length, r.nFft, r.hopLength, r.center);
  const plan = realFftPlan(r.nFft);
  const re = new Float64Array(plan.bins);
  const im = new Float64Array(plan.bins);
  for (let t = 0; t < frames; t++) {
    analyzeFrame(padded, t * r.hopLength, r, plan, re, im);
    visit(t, re, im);
  }
  return frames;
}

/**
 * Complex short-time Fourier transform, as `torch.stft(..., return_complex=True)` transposed to
 * frame-major `[frames, nFft/2 + 1]`.
 *
 * X_t[k] = Σₙ x_pad[t·hop + n] · w[n] · e^(−2πi·k·n / nFft)
 *
 * @throws KwsError `EMPTY_INPUT`, `NON_FINITE_INPUT`, `INVALID_ARGUMENT`, `INVALID_FFT_SIZE`,
 *   `SIGNAL_TOO_SHORT` (center=false and fewer than nFft samples, or reflect padding longer
 *   than the signal).
 */
export function stft(signal: Float32Array, options?: StftOptions): ComplexSpectrogram {
  checkSignal('signal', signal);
  const r = resolveStftOptions(options);
  const bins = Math.floor(r.nFft / 2) + 1;
  const frames = frameCount(signal.length, r.nFft, r.hopLength, r.center);
  const real = new Float32Array(frames * bins);
  const imag = new Float32Array(frames * bins);
  forEachFrame(signal, r, (t, re, im) => {
    for (let k = 0; k < bins; k++) {
      real[t * bins + k] = re[k] as number;
      imag[t * bins + k] = im[k] as number;
    }
  });
  return { real, imag, frames, bins };
}

/**
 * Power (|X|², `power: 2`, default) or magnitude (|X|, `power: 1`) spectrogram, as
 * `torchaudio.functional.spectrogram` with `normalized=False`, frame-major
 * `[frames, nFft/2 + 1]`.
 *
 * @throws KwsError as {@link stft}, and `INVALID_ARGUMENT` for a power other than 1 or 2.
 */
export function spectrogram(signal: Float32Array, options?: SpectrogramOptions): Spectrogram {
  checkSignal('signal', signal);
  const power = checkChoice<1 | 2>('power', checkOptions('options', options).power ?? 2, [1, 2]);
  const r = resolveStftOptions(options);
  const bins = Math.floor(r.nFft / 2) + 1;
  const frames = frameCount(signal.length, r.nFft, r.hopLength, r.center);
  const data = new Float32Array(frames * bins);
  const padded = padForStft(signal, r);
  const plan = realFftPlan(r.nFft);
  const out = new Float64Array(bins);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let t = 0; t < frames; t++) {
    framePower(padded, t * r.hopLength, r, plan, power, out, re, im);
    data.set(out, t * bins);
  }
  return { data, frames, bins };
}
