/**
 * The demo's built-in "voice": a tiny source-filter synthesiser that turns a word into a
 * sequence of segments (voiced vowels with gliding formants, nasal murmurs, noise bursts and
 * fricatives, closures) and renders it for a given synthetic speaker. It is not speech: it gives
 * every word a distinct, speech-like time–frequency pattern whose pitch, vocal-tract length and
 * speed vary by speaker, so that the whole demo can run where no speech synthesiser is installed.
 *
 * Formant values are textbook averages of American English vowels (Peterson & Barney 1952,
 * adult male), scaled per speaker.
 *
 * @packageDocumentation
 */
import { KwsError } from '../errors.js';
import type { Rng } from '../random.js';

/** One piece of a word. Durations are in ms at speaking rate 1. */
export type VoiceSegment =
  /** Voiced sound whose first two formants glide linearly from `f1[0]`/`f2[0]` to `f1[1]`/`f2[1]` (Hz). */
  | { kind: 'vowel'; ms: number; f1: readonly [number, number]; f2: readonly [number, number] }
  /** Low voiced murmur (formants at 250 and 1000 Hz), as in /n/ and /m/. */
  | { kind: 'nasal'; ms: number }
  /** Band-pass noise around `centerHz` (bandwidth `bandwidthHz`) at `level` (≤ 1): fricatives and bursts. */
  | { kind: 'noise'; ms: number; centerHz: number; bandwidthHz: number; level: number }
  /** Silence (a stop closure). */
  | { kind: 'gap'; ms: number };

const v = (ms: number, f1: [number, number], f2: [number, number]): VoiceSegment => ({
  kind: 'vowel',
  ms,
  f1,
  f2,
});
const noise = (ms: number, centerHz: number, bandwidthHz: number, level = 0.6): VoiceSegment => ({
  kind: 'noise',
  ms,
  centerHz,
  bandwidthHz,
  level,
});
const nasal = (ms: number): VoiceSegment => ({ kind: 'nasal', ms });
const gap = (ms: number): VoiceSegment => ({ kind: 'gap', ms });

/** Segment patterns of the words the built-in voice can say: the 10 Speech Commands keywords and six others. */
export const FORMANT_WORDS: Readonly<Record<string, readonly VoiceSegment[]>> = {
  yes: [v(110, [270, 530], [2290, 1840]), v(140, [530, 530], [1840, 1840]), noise(160, 5500, 3000)],
  no: [nasal(90), v(300, [570, 420], [900, 800])],
  up: [v(220, [640, 640], [1190, 1190]), gap(70), noise(25, 1000, 1500, 0.8)],
  down: [noise(20, 3500, 2000, 0.8), v(320, [730, 440], [1090, 1020]), nasal(110)],
  left: [
    v(80, [360, 360], [1300, 1300]),
    v(160, [530, 530], [1840, 1840]),
    noise(120, 5000, 4000, 0.3),
    gap(40),
    noise(30, 4500, 3000, 0.7),
  ],
  right: [v(100, [420, 600], [1300, 1100]), v(260, [730, 390], [1090, 1990]), gap(50), noise(40, 4500, 3000)],
  on: [v(240, [730, 730], [1090, 1090]), nasal(130)],
  off: [v(240, [570, 570], [840, 840]), noise(180, 4500, 5000, 0.35)],
  stop: [
    noise(140, 5500, 3000),
    gap(50),
    noise(20, 4000, 3000, 0.7),
    v(200, [730, 730], [1090, 1090]),
    gap(60),
    noise(30, 1000, 1500, 0.8),
  ],
  go: [noise(25, 1800, 1500, 0.8), v(300, [570, 420], [900, 800])],
  bed: [noise(15, 800, 1000, 0.7), v(220, [530, 530], [1840, 1840]), gap(40), noise(25, 3500, 2000, 0.6)],
  bird: [noise(15, 800, 1000, 0.7), v(280, [490, 490], [1350, 1350]), gap(40), noise(25, 3500, 2000, 0.6)],
  cat: [noise(40, 2500, 2000, 0.7), v(220, [660, 660], [1720, 1720]), gap(50), noise(40, 4500, 3000)],
  dog: [noise(20, 3500, 2000, 0.8), v(240, [570, 570], [840, 840]), gap(40), noise(25, 1800, 1500, 0.7)],
  house: [noise(90, 1500, 3000, 0.2), v(260, [730, 440], [1090, 1020]), noise(150, 5500, 3000)],
  tree: [noise(40, 4500, 3000, 0.7), v(80, [420, 420], [1300, 1300]), v(260, [270, 270], [2290, 2290])],
};

/** A synthetic speaker of the built-in voice. */
export interface FormantSpeaker {
  /** Fundamental frequency at the start of a word, Hz (it falls by 20 % over the word). */
  f0: number;
  /** Factor on every formant and noise band (a shorter vocal tract: > 1). */
  formantScale: number;
  /** Speaking rate: durations are divided by it. */
  rate: number;
  /** Amount of aspiration noise mixed into voiced sounds, in [0, 1]. */
  breathiness: number;
}

/** A speaker drawn from `rng`: f0 in [85, 250] Hz, formant scale in [0.9, 1.2], rate in [0.8, 1.25]. */
export function randomFormantSpeaker(rng: Rng): FormantSpeaker {
  return {
    f0: rng.uniform(85, 250),
    formantScale: rng.uniform(0.9, 1.2),
    rate: rng.uniform(0.8, 1.25),
    breathiness: rng.uniform(0, 0.15),
  };
}

/** Third formant (Hz, before scaling): fixed, it gives voiced sounds their upper energy. */
const F3 = 2500;
/** Formant bandwidths, Hz. */
const BANDWIDTHS = [90, 120, 180] as const;
/** Attack and release of every segment, ms (avoids clicks between segments). */
const RAMP_MS = 8;

/** Resonance gain at frequency f of a formant at `centre` with bandwidth `bw` (Lorentzian). */
function resonance(f: number, centre: number, bw: number): number {
  const d = (f - centre) / bw;
  return 1 / (1 + d * d);
}

/**
 * Band-pass filters `x` in place with an RBJ biquad (constant 0 dB peak gain) at `centreHz`,
 * quality `centreHz / bandwidthHz`.
 */
function bandPass(x: Float32Array, sampleRate: number, centreHz: number, bandwidthHz: number): void {
  const w0 = (2 * Math.PI * Math.min(centreHz, 0.45 * sampleRate)) / sampleRate;
  const q = Math.max(0.3, centreHz / bandwidthHz);
  const alpha = Math.sin(w0) / (2 * q);
  const a0 = 1 + alpha;
  const b0 = alpha / a0;
  const b2 = -alpha / a0;
  const a1 = (-2 * Math.cos(w0)) / a0;
  const a2 = (1 - alpha) / a0;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const y = b0 * xi + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = xi;
    y2 = y1;
    y1 = y;
    x[i] = y;
  }
}

/** Raised-cosine attack and release of `ramp` samples at both ends of `x[from, to)`. */
function applyRamps(x: Float32Array, from: number, to: number, ramp: number): void {
  const n = Math.min(ramp, Math.floor((to - from) / 2));
  for (let i = 0; i < n; i++) {
    const g = 0.5 - 0.5 * Math.cos((Math.PI * i) / n);
    x[from + i] = (x[from + i] as number) * g;
    x[to - 1 - i] = (x[to - 1 - i] as number) * g;
  }
}

/**
 * Renders `word` for `speaker` at `sampleRate`: the word's segments one after the other,
 * normalised to a peak of 0.5. Voiced segments are additive harmonics of a falling f0 shaped by
 * three formant resonances and a −6 dB/octave tilt; noise segments are band-pass filtered
 * Gaussian noise from `rng`.
 *
 * @returns the samples (length = total segment time / rate).
 * @throws KwsError `NOT_FOUND` for a word without a pattern (see {@link FORMANT_WORDS}).
 */
export function synthesizeFormantWord(
  word: string,
  speaker: FormantSpeaker,
  sampleRate: number,
  rng: Rng,
): Float32Array {
  const segments = FORMANT_WORDS[word];
  if (segments === undefined) {
    throw new KwsError(
      'NOT_FOUND',
      `the built-in voice cannot say ${JSON.stringify(word)}; it knows ${Object.keys(FORMANT_WORDS).join(', ')}`,
    );
  }
  const lengths = segments.map((s) => Math.round((s.ms / speaker.rate / 1000) * sampleRate));
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(total);
  const scale = speaker.formantScale;
  const ramp = Math.round((RAMP_MS / 1000) * sampleRate);
  const nyquist = sampleRate / 2;
  let phase = 0;
  let at = 0;
  for (const [k, segment] of segments.entries()) {
    const n = lengths[k] as number;
    if (segment.kind === 'vowel' || segment.kind === 'nasal') {
      const level = segment.kind === 'nasal' ? 0.35 : 1;
      for (let i = 0; i < n; i++) {
        const t = n > 1 ? i / (n - 1) : 0;
        const progress = (at + i) / total;
        const f0 = speaker.f0 * (1 - 0.2 * progress);
        const f1 = segment.kind === 'nasal' ? 250 : segment.f1[0] + t * (segment.f1[1] - segment.f1[0]);
        const f2 = segment.kind === 'nasal' ? 1000 : segment.f2[0] + t * (segment.f2[1] - segment.f2[0]);
        phase += (2 * Math.PI * f0) / sampleRate;
        let s = 0;
        for (let h = 1; h * f0 < Math.min(4000 * scale, nyquist); h++) {
          const f = h * f0;
          const gain =
            resonance(f, f1 * scale, BANDWIDTHS[0]) +
            resonance(f, f2 * scale, BANDWIDTHS[1]) +
            0.5 * resonance(f, F3 * scale, BANDWIDTHS[2]);
          s += (gain / h) * Math.sin(h * phase);
        }
        out[at + i] = level * (s + speaker.breathiness * rng.normal() * 0.3);
      }
    } else if (segment.kind === 'noise') {
      const piece = new Float32Array(n);
      for (let i = 0; i < n; i++) piece[i] = rng.normal();
      bandPass(piece, sampleRate, segment.centerHz * scale, segment.bandwidthHz * scale);
      for (let i = 0; i < n; i++) out[at + i] = segment.level * 1.5 * (piece[i] as number);
    }
    applyRamps(out, at, at + n, ramp);
    at += n;
  }
  let peak = 0;
  for (const x of out) peak = Math.max(peak, Math.abs(x));
  if (peak > 0) for (let i = 0; i < total; i++) out[i] = (0.5 * (out[i] as number)) / peak;
  return out;
}
