/**
 * Test fixtures for the streaming tests: a hand-wired classifier whose output is a known
 * function of the input, and synthetic "utterances" (tones) that make it fire.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../src/random.js';

export const TOY_LABELS = ['_silence_', '_unknown_', 'yes', 'no'] as const;
/** Mel band (of 40, 16 kHz) where a 300 Hz tone lands, and where a 4 kHz tone lands. */
const YES_BIN = 5;
const NO_BIN = 30;

/**
 * logits = W·mean_t(x) + b with W, b set by hand: silence 0, unknown −2, yes 2·(m[5] + 4),
 * no 2·(m[30] + 4), where m is the mean log-mel of each band over the window. Quiet noise gives
 * m ≈ −8 (silence wins, p ≈ 0.88); a loud 300 Hz tone over a third of the window drives "yes"
 * above 0.8, a 4 kHz tone "no".
 */
export function toyModel(frames: number | null = 101): tfl.LayersModel {
  const input = tfl.input({ shape: [frames, 40] });
  const pooled = tfl.layers.globalAveragePooling1d().apply(input) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: 4, kernelInitializer: 'zeros' });
  const output = dense.apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const kernel = new Float32Array(40 * 4);
  kernel[YES_BIN * 4 + 2] = 2;
  kernel[NO_BIN * 4 + 3] = 2;
  const weights = [tf.tensor2d(kernel, [40, 4]), tf.tensor1d([0, -2, 8, 8])];
  dense.setWeights(weights);
  tf.dispose(weights);
  return model;
}

export interface Tone {
  startMs: number;
  endMs: number;
  hz: number;
}

/** Quiet noise (σ = 0.001) with loud tones (amplitude 0.3), at `sampleRate`. */
export function toneTrack(
  durationMs: number,
  tones: readonly Tone[],
  sampleRate = 16000,
  seed = 1,
): Float32Array {
  const rng = createRng(seed);
  const n = Math.round((durationMs * sampleRate) / 1000);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = (1000 * i) / sampleRate;
    let v = 0.001 * rng.normal();
    for (const tone of tones) {
      if (t >= tone.startMs && t < tone.endMs) v += 0.3 * Math.sin((2 * Math.PI * tone.hz * i) / sampleRate);
    }
    x[i] = v;
  }
  return x;
}

/** 8 s: "yes" at 1.5 s, "no" at 3.5 s, "yes" at 6 s. */
export const TOY_TONES: readonly Tone[] = [
  { startMs: 1500, endMs: 2000, hz: 300 },
  { startMs: 3500, endMs: 4000, hz: 4000 },
  { startMs: 6000, endMs: 6400, hz: 300 },
];

/** Chunk sizes in [1, max], log-uniform so that tiny and large chunks both occur. */
export function randomSizes(seed: number, max = 16000): () => number {
  const rng = createRng(seed);
  return () => Math.min(max, Math.max(1, Math.floor(Math.exp(rng.next() * Math.log(max + 1)))));
}
