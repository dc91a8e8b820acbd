/**
 * The default keyword-spotting front end: log-mel features as in Kim et al., "Broadcasted
 * Residual Learning for Efficient Keyword Spotting" (Interspeech 2021) — 16 kHz audio, 40 mel
 * bands, 30 ms windows every 10 ms, ln(x + 1e-6). One second gives 101 frames × 40 bins.
 *
 * @packageDocumentation
 */

import type { Spectrogram } from '../../src/features/types.js';
import { checkNumber, checkOptions } from '../../src/validate.js';
import { type MelSpectrogramOptions, melPlan, melSpectrogram } from './mel-spectrogram.js';
import { logInto } from './scale.js';

/** Options of the log-mel front end: mel-spectrogram options plus the log offset. */
export interface FrontEndOptions extends MelSpectrogramOptions {
  /** Offset in ln(x + eps). Default 1e-6. */
  eps?: number;
}

/** A fully specified front end (every field present). */
export type FrontEndConfig = Required<Omit<FrontEndOptions, 'window'>> & Pick<FrontEndOptions, 'window'>;

/**
 * The BC-ResNet paper's front end: 16 kHz, nFft = winLength = 480 (30 ms), hop 160 (10 ms),
 * 40 HTK mel bands over 0–8000 Hz without norm, power 2, centred frames with reflect padding,
 * then ln(x + 1e-6). This is also the front end of kws-kit's pretrained models.
 */
export const DEFAULT_FRONT_END: Readonly<FrontEndConfig> = Object.freeze({
  sampleRate: 16000,
  nFft: 480,
  winLength: 480,
  hopLength: 160,
  nMels: 40,
  fMin: 0,
  fMax: 8000,
  center: true,
  padMode: 'reflect',
  power: 2,
  melScale: 'htk',
  norm: null,
  window: 'hann',
  eps: 1e-6,
});

/** Completes partial options with {@link DEFAULT_FRONT_END}. */
export function resolveFrontEnd(options?: FrontEndOptions): FrontEndConfig {
  const o = checkOptions('options', options);
  const merged = { ...DEFAULT_FRONT_END, ...o } as FrontEndConfig;
  if (o.sampleRate !== undefined && o.fMax === undefined) merged.fMax = merged.sampleRate / 2;
  checkNumber('eps', merged.eps, 0, Number.POSITIVE_INFINITY, true);
  melPlan(merged);
  return merged;
}

/**
 * Log-mel features `ln(mel + eps)`, frame-major `[frames, nMels]`, with {@link DEFAULT_FRONT_END}
 * unless overridden (fields not given keep the KWS defaults, not torchaudio's).
 *
 * @throws KwsError as {@link melSpectrogram}.
 */
export function logMelSpectrogram(signal: Float32Array, options?: FrontEndOptions): Spectrogram {
  const config = options === undefined ? DEFAULT_FRONT_END : resolveFrontEnd(options);
  const mel = melSpectrogram(signal, config);
  logInto(mel.data, config.eps, mel.data);
  return mel;
}
