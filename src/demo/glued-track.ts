/**
 * The demo's streaming test track: clips laid end to end on a bed of background noise, with a
 * noise-only gap before each and after the last, and the ground-truth span of every clip.
 * Pure (samples in, samples out), seeded by the caller's {@link Rng}.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import type { Rng } from '../random.js';

/** One clip to put on the track. */
export interface TrackClip {
  /** Its class (a keyword, `_unknown_`, …). */
  label: string;
  /** Its samples, at the track's rate. */
  audio: Float32Array;
}

/** Where a clip landed, in ms from the start of the track. */
export interface TrackPart {
  label: string;
  startMs: number;
  endMs: number;
}

/** A glued track. */
export interface GluedTrack {
  samples: Float32Array;
  sampleRate: number;
  durationMs: number;
  /** Every clip, in order. */
  parts: TrackPart[];
}

/** Options of {@link glueTrack}. */
export interface GlueTrackOptions {
  sampleRate: number;
  /** Background recordings (at least one, each at least one sample) looped under the track. */
  noise: Float32Array[];
  /** Factor on the background. */
  noiseGain: number;
  /** Gap before each clip and after the last, drawn uniformly from this range, ms. */
  gapMs: readonly [number, number];
  rng: Rng;
}

/**
 * Lays `clips` in order with noise-only gaps between them, adds a background excerpt (one
 * recording, drawn at random, from a random offset, looped) scaled by `noiseGain` under the
 * whole track, and clamps to [−1, 1].
 *
 * @throws KwsError `EMPTY_INPUT` without clips or noise.
 */
export function glueTrack(clips: readonly TrackClip[], options: GlueTrackOptions): GluedTrack {
  const { sampleRate, noise, noiseGain, gapMs, rng } = options;
  if (clips.length === 0) throw new KwsError('EMPTY_INPUT', 'glueTrack needs at least one clip');
  if (noise.length === 0 || noise.some((n) => n.length === 0)) {
    throw new KwsError('EMPTY_INPUT', 'glueTrack needs at least one non-empty background recording');
  }
  const gap = (): number => Math.round((rng.uniform(gapMs[0], gapMs[1]) * sampleRate) / 1000);
  const gaps = clips.map(gap);
  gaps.push(gap());
  const length = gaps.reduce((a, b) => a + b, 0) + clips.reduce((a, c) => a + c.audio.length, 0);
  const samples = new Float32Array(length);
  const ms = (n: number): number => (1000 * n) / sampleRate;
  const parts: TrackPart[] = [];
  let at = 0;
  for (const [i, clip] of clips.entries()) {
    at += gaps[i] as number;
    samples.set(clip.audio, at);
    parts.push({ label: clip.label, startMs: ms(at), endMs: ms(at + clip.audio.length) });
    at += clip.audio.length;
  }
  const bed = noise[rng.int(noise.length)] as Float32Array;
  const offset = rng.int(bed.length);
  for (let i = 0; i < length; i++) {
    const v = (samples[i] as number) + noiseGain * (bed[(offset + i) % bed.length] as number);
    samples[i] = Math.max(-1, Math.min(1, v));
  }
  return { samples, sampleRate, durationMs: ms(length), parts };
}
