/**
 * Test streams glued from one-second clips, for streaming evaluation: a noise bed from long
 * background recordings, keyword clips and other words laid on it at seeded random times, and
 * the ground-truth keyword spans. Pure functions on sample arrays (no files, no tfjs), seeded by
 * the caller's Rng, so a stream is reproducible from its seed.
 */
import type { Rng } from '../src/random.js';
import type { KeywordSpan } from '../src/streaming/stream-score.js';

/** A one-second (or any length) clip and where it came from. */
export interface Clip {
  label: string;
  file: string;
  audio: Float32Array;
}

/** One clip placed in a stream. */
export interface StreamPart {
  kind: 'keyword' | 'filler';
  label: string;
  file: string;
  startMs: number;
  endMs: number;
}

/** A glued stream: its samples, every clip placed in it, and the keyword spans to score against. */
export interface GluedStream {
  samples: Float32Array;
  sampleRate: number;
  parts: StreamPart[];
  spans: KeywordSpan[];
}

/** Options of {@link buildGluedStream}. */
export interface GluedStreamOptions {
  /** Keyword clips, used in a seeded shuffled order (all once before any repeats). */
  keywords: Clip[];
  /** Non-keyword words put between keywords (may be empty). */
  fillers: Clip[];
  /** Long background recordings for the noise bed (at least one). */
  noise: Float32Array[];
  sampleRate: number;
  /** Length of the stream in ms. */
  durationMs: number;
  /** Factor on the background recordings (< 1: a quieter room). */
  noiseGain: number;
  /** Noise-only gap before each clip, drawn uniformly from [min, max] ms. */
  gapMs: [number, number];
  /** Probability that a filler word (and another gap) precedes a keyword. */
  fillerProbability: number;
  rng: Rng;
}

const CROSSFADE_MS = 50;

/** A copy of `noise[from, from + length)`, wrapping around its end. */
function excerpt(noise: Float32Array, from: number, length: number, gain: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = gain * (noise[(from + i) % noise.length] as number);
  return out;
}

/**
 * `length` samples of background: consecutive excerpts (5–15 s each) of randomly chosen
 * recordings at random offsets, scaled by `gain`, joined with 50 ms linear crossfades so the
 * joins do not click.
 */
export function noiseBed(
  noise: Float32Array[],
  length: number,
  sampleRate: number,
  gain: number,
  rng: Rng,
): Float32Array {
  if (noise.length === 0) throw new Error('noiseBed needs at least one background recording');
  const out = new Float32Array(length);
  const fade = Math.round((CROSSFADE_MS * sampleRate) / 1000);
  let at = 0;
  while (at < length) {
    const source = noise[rng.int(noise.length)] as Float32Array;
    const segment = Math.min(length - at + fade, Math.round(rng.uniform(5, 15) * sampleRate));
    const piece = excerpt(source, rng.int(source.length), segment, gain);
    const start = at === 0 ? 0 : at - fade;
    for (let i = 0; i < segment && start + i < length; i++) {
      const w = at > 0 && i < fade ? i / fade : 1;
      out[start + i] = (1 - w) * (out[start + i] as number) + w * (piece[i] as number);
    }
    at = start + segment;
  }
  return out;
}

/** Adds `clip` into `out` at sample `at` (clipped at the end of `out`). */
function addInto(out: Float32Array, clip: Float32Array, at: number): void {
  for (let i = 0; i < clip.length && at + i < out.length; i++)
    out[at + i] = (out[at + i] as number) + (clip[i] as number);
}

/** Cycles through a seeded shuffle of `items`, reshuffling after each full pass. */
function cycler<T>(items: T[], rng: Rng): () => T {
  let order: T[] = [];
  return () => {
    if (order.length === 0) order = rng.shuffle([...items]);
    return order.pop() as T;
  };
}

/**
 * Builds a stream of `durationMs`: a noise bed, then from the start, repeatedly: a gap, with
 * probability `fillerProbability` a filler word and another gap, then a keyword clip; until the
 * next clip would not fit. Clips are added on top of the bed. Each keyword's span is its clip's
 * extent (the word lies somewhere inside).
 */
export function buildGluedStream(o: GluedStreamOptions): GluedStream {
  if (o.keywords.length === 0) throw new Error('buildGluedStream needs keyword clips');
  const length = Math.round((o.durationMs * o.sampleRate) / 1000);
  const samples = noiseBed(o.noise, length, o.sampleRate, o.noiseGain, o.rng);
  const nextKeyword = cycler(o.keywords, o.rng);
  const nextFiller = o.fillers.length > 0 ? cycler(o.fillers, o.rng) : undefined;
  const gap = (): number => Math.round((o.rng.uniform(o.gapMs[0], o.gapMs[1]) * o.sampleRate) / 1000);
  const ms = (n: number): number => (1000 * n) / o.sampleRate;
  const parts: StreamPart[] = [];
  let at = gap();
  const place = (clip: Clip, kind: StreamPart['kind']): boolean => {
    if (at + clip.audio.length > length) return false;
    addInto(samples, clip.audio, at);
    parts.push({
      kind,
      label: clip.label,
      file: clip.file,
      startMs: ms(at),
      endMs: ms(at + clip.audio.length),
    });
    at += clip.audio.length + gap();
    return true;
  };
  for (;;) {
    if (nextFiller !== undefined && o.rng.next() < o.fillerProbability && !place(nextFiller(), 'filler'))
      break;
    if (!place(nextKeyword(), 'keyword')) break;
  }
  const spans = parts
    .filter((p) => p.kind === 'keyword')
    .map(({ label, startMs, endMs }) => ({ label, startMs, endMs }));
  return { samples, sampleRate: o.sampleRate, parts, spans };
}

/**
 * The demonstration track: background excerpt A (10–20 s), the keyword clip, background
 * excerpt B (10–20 s), end to end; returns the samples and the clip's span.
 */
export function demoTrack(
  noise: Float32Array[],
  clip: Clip,
  sampleRate: number,
  noiseGain: number,
  rng: Rng,
): { samples: Float32Array; span: KeywordSpan } {
  const before = noiseBed(noise, Math.round(rng.uniform(10, 20) * sampleRate), sampleRate, noiseGain, rng);
  const after = noiseBed(noise, Math.round(rng.uniform(10, 20) * sampleRate), sampleRate, noiseGain, rng);
  const samples = new Float32Array(before.length + clip.audio.length + after.length);
  samples.set(before, 0);
  samples.set(clip.audio, before.length);
  samples.set(after, before.length + clip.audio.length);
  const ms = (n: number): number => (1000 * n) / sampleRate;
  return {
    samples,
    span: { label: clip.label, startMs: ms(before.length), endMs: ms(before.length + clip.audio.length) },
  };
}
