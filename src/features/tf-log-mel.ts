/**
 * The log-mel front end as tfjs ops, batched `[batch, samples] → [batch, frames, nMels]`,
 * running on every backend. The wasm backend has no `Complex` kernel (so `tf.signal.stft` and
 * `tf.spectral.rfft` throw there), so the DFT is a matrix product: frames `[B·F, nFft]` times a
 * precomputed basis `[nFft, 2·bins]` holding `w[n]·cos(2πkn/N)` and `−w[n]·sin(2πkn/N)`. Squaring
 * that and multiplying by the filterbank stacked twice (`[fb; fb]`, `[2·bins, nMels]`) gives
 * re² + im² summed into mel bands in one more matMul. It agrees with the pure-TS
 * {@link melSpectrogram} to float32 rounding.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { checkChoice, checkOptions } from '../validate.js';
import { type FrontEndConfig, type FrontEndOptions, resolveFrontEnd } from './front-end.js';
import { melPlan } from './mel-spectrogram.js';

/** Options of {@link logMelOp} and {@link LogMelOp}. */
export interface LogMelOpOptions extends FrontEndOptions {
  /** `'log-mel'` (default) returns ln(mel + eps); `'mel'` returns the mel power. */
  output?: 'log-mel' | 'mel';
}

interface Bases {
  config: FrontEndConfig;
  output: 'log-mel' | 'mel';
  /** [nFft, 2·bins]: cos part then −sin part, window folded in. */
  dft: Float32Array;
  /** power 2: [2·bins, nMels] = [fb; fb]; power 1: [bins, nMels]. */
  mel: Float32Array;
  bins: number;
}

function buildBases(options: LogMelOpOptions | undefined): Bases {
  const { output, ...rest } = checkOptions('options', options);
  const out = checkChoice<'log-mel' | 'mel'>('output', output ?? 'log-mel', ['log-mel', 'mel']);
  const config = resolveFrontEnd(rest);
  const plan = melPlan(config);
  const { nFft, window } = plan.stft;
  const bins = Math.floor(nFft / 2) + 1;
  const dft = new Float32Array(nFft * 2 * bins);
  for (let n = 0; n < nFft; n++) {
    const w = window[n] as number;
    for (let k = 0; k < bins; k++) {
      // Reduce k·n mod N first so the angle stays small and exact for large N.
      const angle = (2 * Math.PI * ((k * n) % nFft)) / nFft;
      dft[n * 2 * bins + k] = w * Math.cos(angle);
      dft[n * 2 * bins + bins + k] = -w * Math.sin(angle);
    }
  }
  const dense = plan.filterbank.toDense();
  const nMels = plan.filterbank.nMels;
  const mel = plan.power === 2 ? new Float32Array(2 * bins * nMels) : dense;
  if (plan.power === 2) {
    mel.set(dense, 0);
    mel.set(dense, bins * nMels);
  }
  return { config, output: out, dft, mel, bins };
}

function run(signals: tf.Tensor, b: Bases, dft: tf.Tensor2D, mel: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const { config } = b;
    let x = signals as tf.Tensor2D;
    if (x.rank === 1) x = tf.expandDims(x, 0) as tf.Tensor2D;
    const [batch, samples] = x.shape;
    if (config.center) {
      const pad = Math.floor(config.nFft / 2);
      if (config.padMode === 'reflect') {
        if (samples <= pad) {
          throw new KwsError(
            'SIGNAL_TOO_SHORT',
            `reflect padding needs more than nFft/2 = ${pad} samples; got ${samples}`,
          );
        }
        x = tf.mirrorPad(
          x as tf.Tensor2D,
          [
            [0, 0],
            [pad, pad],
          ],
          'reflect',
        );
      } else {
        x = tf.pad(x, [
          [0, 0],
          [pad, pad],
        ]);
      }
    }
    const padded = x.shape[1];
    if (padded < config.nFft) {
      throw new KwsError(
        'SIGNAL_TOO_SHORT',
        `signals have ${samples} samples, fewer than one frame of nFft=${config.nFft}`,
      );
    }
    const frames = 1 + Math.floor((padded - config.nFft) / config.hopLength);
    // Framing as one gather (tf.signal.frame only takes rank-1 input): index t·hop + n.
    const index = new Int32Array(frames * config.nFft);
    for (let t = 0; t < frames; t++) {
      for (let n = 0; n < config.nFft; n++) index[t * config.nFft + n] = t * config.hopLength + n;
    }
    const framed = tf.gather(x, tf.tensor1d(index, 'int32'), 1);
    const flat = tf.reshape(framed, [batch * frames, config.nFft]);
    const spectrum = tf.matMul(flat, dft);
    let power: tf.Tensor;
    if (config.power === 2) {
      power = tf.square(spectrum);
    } else {
      const re = tf.slice(spectrum, [0, 0], [-1, b.bins]);
      const im = tf.slice(spectrum, [0, b.bins], [-1, b.bins]);
      power = tf.sqrt(tf.add(tf.square(re), tf.square(im)));
    }
    let melPower: tf.Tensor = tf.matMul(power as tf.Tensor2D, mel);
    if (b.output === 'log-mel') melPower = tf.log(tf.add(melPower, tf.scalar(config.eps)));
    return tf.reshape(melPower, [batch, frames, mel.shape[1]]) as tf.Tensor3D;
  });
}

function checkSignalsTensor(signals: unknown): tf.Tensor {
  if (!(signals instanceof tf.Tensor) || (signals.rank !== 1 && signals.rank !== 2)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'signals must be a tf.Tensor of shape [samples] or [batch, samples] (float32 audio)',
    );
  }
  if (signals.dtype !== 'float32') {
    throw new KwsError('INVALID_ARGUMENT', `signals must be float32; got ${signals.dtype}`);
  }
  if (signals.size === 0) throw new KwsError('EMPTY_INPUT', 'signals has no samples');
  return signals;
}

/**
 * Batched log-mel (or mel) features as tfjs ops: `[batch, samples]` (or `[samples]`) float32
 * audio to `[batch, frames, nMels]`, with {@link DEFAULT_FRONT_END} unless overridden. Works on
 * every backend (cpu, wasm, webgl, webgpu, tfjs-node). Builds its DFT basis on each call; for
 * repeated calls hold a {@link LogMelOp}. Does not check for NaN (that would need a download).
 *
 * @throws KwsError `INVALID_ARGUMENT` (not a float32 rank-1/2 tensor, bad options),
 *   `EMPTY_INPUT`, `SIGNAL_TOO_SHORT`, and the front end's option errors.
 */
export function logMelOp(signals: tf.Tensor, options?: LogMelOpOptions): tf.Tensor3D {
  checkSignalsTensor(signals);
  const b = buildBases(options);
  const bins = b.bins;
  const nMels = b.mel.length / (b.config.power === 2 ? 2 * bins : bins);
  return tf.tidy(() => {
    const dft = tf.tensor2d(b.dft, [b.config.nFft, 2 * bins]);
    const mel = tf.tensor2d(b.mel, [b.config.power === 2 ? 2 * bins : bins, nMels]);
    return run(signals, b, dft, mel);
  });
}

/**
 * A reusable batched front end holding its DFT basis and filterbank as tensors on the current
 * backend. Call {@link LogMelOp.apply} as often as needed, then {@link LogMelOp.dispose}.
 */
export class LogMelOp {
  /** The resolved front-end configuration. */
  readonly config: FrontEndConfig;
  private readonly bases: Bases;
  private dft: tf.Tensor2D | null;
  private mel: tf.Tensor2D | null;

  constructor(options?: LogMelOpOptions) {
    this.bases = buildBases(options);
    this.config = this.bases.config;
    const bins = this.bases.bins;
    const rows = this.config.power === 2 ? 2 * bins : bins;
    this.dft = tf.tensor2d(this.bases.dft, [this.config.nFft, 2 * bins]);
    this.mel = tf.tensor2d(this.bases.mel, [rows, this.bases.mel.length / rows]);
  }

  /** `[batch, samples]` or `[samples]` float32 → `[batch, frames, nMels]`. */
  apply(signals: tf.Tensor): tf.Tensor3D {
    if (!this.dft || !this.mel) throw new KwsError('DISPOSED', 'LogMelOp was disposed; create a new one');
    checkSignalsTensor(signals);
    return run(signals, this.bases, this.dft, this.mel);
  }

  /** Frees the basis tensors. */
  dispose(): void {
    this.dft?.dispose();
    this.mel?.dispose();
    this.dft = null;
    this.mel = null;
  }
}
