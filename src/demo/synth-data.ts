/**
 * A small keyword-spotting data set the demo makes itself, written in the Speech Commands folder
 * layout that `loadSpeechCommands` reads:
 *
 * ```
 * <dir>/<word>/<speaker>_nohash_<n>.wav   1 s, 16 kHz, 16-bit mono
 * <dir>/_background_noise_/*.wav          generated noise recordings (for `_silence_` and mixing)
 * <dir>/validation_list.txt               the clips of the validation speakers
 * <dir>/testing_list.txt                  the clips of the test speakers
 * <dir>/dataset.json                      what was generated (the {@link SynthDataset} record)
 * ```
 *
 * Speech comes from `espeak-ng` (several voices, variants, speeds and pitches: one "speaker" per
 * setting) when it is installed, else from the built-in formant voice ({@link synthesizeFormantWord}),
 * which is synthetic: distinct word-like patterns, not speech. Every utterance gets a random gain,
 * a random position inside its 1 s clip and a little background noise. Splits are by speaker, as
 * in Speech Commands. Everything is seeded: the same options write the same bytes.
 *
 * Node only (writes files).
 *
 * @packageDocumentation
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKGROUND_NOISE_FOLDER, type SplitName, V2_12_LABELS } from '../data/index.js';
import { KwsError } from '../errors.js';
import { encodeWav } from '../features/index.js';
import { createRng, type Rng } from '../random.js';
import { checkChoice, checkInt, checkOptions } from '../validate.js';
import {
  ESPEAK_ENGLISH_VOICES,
  ESPEAK_VARIANTS,
  type EspeakVoice,
  espeakAvailable,
  synthesizeEspeak,
} from './espeak.js';
import {
  FORMANT_WORDS,
  type FormantSpeaker,
  randomFormantSpeaker,
  synthesizeFormantWord,
} from './formant-voice.js';

/** Sample rate of the written clips, Hz. */
export const SYNTH_SAMPLE_RATE = 16000;

/** The ten keywords of the v2-12 label set, in label order. */
export const DEMO_KEYWORDS: readonly string[] = V2_12_LABELS.filter((l) => !l.startsWith('_'));

/** Words that are not keywords (they become `_unknown_`); all are known to the built-in voice. */
export const DEMO_OTHER_WORDS: readonly string[] = ['bed', 'bird', 'cat', 'dog', 'house', 'tree'];

/** Where the speech comes from: `'auto'` picks espeak-ng when it runs, else the built-in voice. */
export type SynthSource = 'auto' | 'espeak' | 'builtin';

/** The generator actually used. */
export type SynthGenerator = 'espeak-ng' | 'builtin';

/** Options of {@link makeSynthDataset}. */
export interface SynthDataOptions {
  /** Folder to write (created if missing; existing files of the same names are overwritten). */
  dir: string;
  /** Default `'auto'`. `'espeak'` throws `NOT_FOUND` when espeak-ng does not run. */
  source?: SynthSource;
  /** Number of speakers (voice settings), an integer ≥ 3. Default 10. */
  speakers?: number;
  /** Utterances of each keyword per speaker, ≥ 1. Default 3. */
  repetitions?: number;
  /** Utterances of each other word per speaker, ≥ 0. Default 1. */
  otherRepetitions?: number;
  /** Length of each generated background-noise recording, s (integer ≥ 2). Default 20. */
  noiseSeconds?: number;
  /** Seed of every random choice. Default 0. */
  seed?: number;
}

/** One speaker of the generated set. */
export interface SynthSpeaker {
  /** Id used in the file names (`<id>_nohash_<n>.wav`). */
  id: string;
  /** The split all of its clips are in. */
  split: SplitName;
  /** The voice setting, in words (e.g. `espeak-ng en-gb+f3, 160 wpm, pitch 45`). */
  description: string;
}

/** What {@link makeSynthDataset} wrote. */
export interface SynthDataset {
  /** The folder. */
  dir: string;
  generator: SynthGenerator;
  /** True for the built-in voice (word-like patterns, not speech). */
  synthetic: boolean;
  keywords: string[];
  otherWords: string[];
  speakers: SynthSpeaker[];
  /** Word clips (keywords and other words) per split. */
  clips: Record<SplitName, number>;
  /** Utterances of each keyword per speaker. */
  repetitions: number;
  /** Relative paths of the background-noise recordings. */
  noiseFiles: string[];
}

/** One generated background recording: a name and its samples. */
interface NoiseRecording {
  name: string;
  samples: Float32Array;
}

/** Generated background noise: white, low-passed, brown (integrated) and a mains hum with fan noise. */
function makeNoise(seconds: number, rng: Rng): NoiseRecording[] {
  const n = seconds * SYNTH_SAMPLE_RATE;
  const white = new Float32Array(n);
  const lowpass = new Float32Array(n);
  const brown = new Float32Array(n);
  const hum = new Float32Array(n);
  let lp = 0;
  let br = 0;
  let fan = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    white[i] = 0.08 * w;
    lp += 0.15 * (w - lp);
    lowpass[i] = 0.25 * lp;
    br = 0.995 * br + 0.05 * w;
    brown[i] = 0.25 * br;
    fan += 0.05 * (rng.normal() - fan);
    const t = i / SYNTH_SAMPLE_RATE;
    hum[i] = 0.05 * Math.sin(2 * Math.PI * 50 * t) + 0.03 * Math.sin(2 * Math.PI * 150 * t) + 0.3 * fan;
  }
  return [
    { name: 'brown_noise.wav', samples: brown },
    { name: 'hum_and_fan.wav', samples: hum },
    { name: 'lowpass_noise.wav', samples: lowpass },
    { name: 'white_noise.wav', samples: white },
  ];
}

/** `x[from, to)` where `to − from` is the extent of samples above 2 % of the peak. */
function trimQuiet(x: Float32Array): Float32Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const floor = 0.02 * peak;
  let from = 0;
  while (from < x.length && Math.abs(x[from] as number) <= floor) from++;
  let to = x.length;
  while (to > from && Math.abs(x[to - 1] as number) <= floor) to--;
  return x.subarray(from, to);
}

/**
 * A 1 s clip holding `utterance` at a random gain and position, on a random excerpt of one of
 * the noise recordings at a low random gain.
 */
function placeInClip(utterance: Float32Array, noise: NoiseRecording[], rng: Rng): Float32Array {
  const clip = new Float32Array(SYNTH_SAMPLE_RATE);
  const word = trimQuiet(utterance);
  const length = Math.min(word.length, SYNTH_SAMPLE_RATE);
  let peak = 0;
  for (let i = 0; i < length; i++) peak = Math.max(peak, Math.abs(word[i] as number));
  const gain = peak > 0 ? rng.uniform(0.25, 0.9) / peak : 0;
  const at = rng.int(SYNTH_SAMPLE_RATE - length + 1);
  // A short fade-out in case the word had to be cut at 1 s.
  const fade = Math.min(160, length);
  for (let i = 0; i < length; i++) {
    const g = i >= length - fade && word.length > length ? (length - i) / fade : 1;
    clip[at + i] = gain * g * (word[i] as number);
  }
  const bed = (noise[rng.int(noise.length)] as NoiseRecording).samples;
  const offset = rng.int(bed.length - SYNTH_SAMPLE_RATE);
  const noiseGain = rng.uniform(0, 0.3);
  for (let i = 0; i < SYNTH_SAMPLE_RATE; i++) {
    clip[i] = Math.max(-1, Math.min(1, (clip[i] as number) + noiseGain * (bed[offset + i] as number)));
  }
  return clip;
}

/** A speaker's voice and how to say a word with it (each call: one utterance, slightly varied). */
interface SpeakerVoice {
  description: string;
  say(word: string, rng: Rng): Float32Array;
}

function espeakSpeaker(index: number, rng: Rng): SpeakerVoice {
  const base = ESPEAK_ENGLISH_VOICES[index % ESPEAK_ENGLISH_VOICES.length] as string;
  const variant = ESPEAK_VARIANTS[rng.int(ESPEAK_VARIANTS.length)] as string;
  const voice: EspeakVoice = {
    voice: `${base}+${variant}`,
    speed: rng.uniform(130, 190),
    pitch: rng.uniform(25, 75),
  };
  return {
    description: `espeak-ng ${voice.voice}, ${Math.round(voice.speed)} wpm, pitch ${Math.round(voice.pitch)}`,
    say: (word, r) =>
      synthesizeEspeak(
        word,
        {
          voice: voice.voice,
          speed: voice.speed + r.uniform(-12, 12),
          pitch: Math.max(0, Math.min(99, voice.pitch + r.uniform(-8, 8))),
        },
        SYNTH_SAMPLE_RATE,
      ),
  };
}

function builtinSpeaker(rng: Rng): SpeakerVoice {
  const speaker = randomFormantSpeaker(rng);
  return {
    description:
      `built-in formant voice, f0 ${speaker.f0.toFixed(0)} Hz, formants ×${speaker.formantScale.toFixed(2)}, ` +
      `rate ×${speaker.rate.toFixed(2)}`,
    say: (word, r) => {
      const varied: FormantSpeaker = {
        ...speaker,
        f0: speaker.f0 * r.uniform(0.92, 1.08),
        rate: speaker.rate * r.uniform(0.9, 1.1),
      };
      return synthesizeFormantWord(word, varied, SYNTH_SAMPLE_RATE, r);
    },
  };
}

/** The generator `source` resolves to here. */
export function resolveSynthGenerator(source: SynthSource): SynthGenerator {
  if (source === 'builtin') return 'builtin';
  const available = espeakAvailable();
  if (source === 'espeak' && !available) {
    throw new KwsError(
      'NOT_FOUND',
      'espeak-ng is not installed or does not run (install it, e.g. apt-get install espeak-ng, or use the built-in generator)',
    );
  }
  return available ? 'espeak-ng' : 'builtin';
}

/** Number of speakers in the validation and test splits: 15 % each, at least one. */
export function speakerSplitSizes(speakers: number): { validation: number; test: number } {
  const each = Math.max(1, Math.round(0.15 * speakers));
  return { validation: each, test: each };
}

/**
 * Generates and writes the data set (see the module documentation).
 *
 * @example
 * ```ts
 * const set = makeSynthDataset({ dir: 'demo-out/data', source: 'builtin', seed: 1 });
 * const data = await loadSpeechCommands(set.dir, { labels: 'v2-12' });
 * ```
 * @throws KwsError `INVALID_ARGUMENT` for bad options, `NOT_FOUND` for `source: 'espeak'`
 *   without espeak-ng.
 */
export function makeSynthDataset(options: SynthDataOptions): SynthDataset {
  const o = checkOptions('options', options);
  if (typeof o.dir !== 'string' || o.dir.length === 0) {
    throw new KwsError('INVALID_ARGUMENT', 'dir must be a non-empty folder path');
  }
  const source = checkChoice('source', o.source ?? 'auto', ['auto', 'espeak', 'builtin'] as const);
  const speakerCount = checkInt('speakers', o.speakers ?? 10, 3, 1000);
  const repetitions = checkInt('repetitions', o.repetitions ?? 3, 1, 1000);
  const otherRepetitions = checkInt('otherRepetitions', o.otherRepetitions ?? 1, 0, 1000);
  const noiseSeconds = checkInt('noiseSeconds', o.noiseSeconds ?? 20, 2, 3600);
  const seed = checkInt('seed', o.seed ?? 0, 0);
  const generator = resolveSynthGenerator(source);
  const rng = createRng(seed);
  const noise = makeNoise(noiseSeconds, rng.fork());
  const voiceRng = rng.fork();
  const voices: SpeakerVoice[] = [];
  for (let i = 0; i < speakerCount; i++) {
    voices.push(generator === 'espeak-ng' ? espeakSpeaker(i, voiceRng) : builtinSpeaker(voiceRng));
  }
  // Which speakers hold out: a seeded choice, so that no voice family is always the test one.
  const order = rng.shuffle([...Array(speakerCount).keys()]);
  const sizes = speakerSplitSizes(speakerCount);
  const splitOf = new Map<number, SplitName>();
  order.forEach((s, k) => {
    splitOf.set(s, k < sizes.test ? 'test' : k < sizes.test + sizes.validation ? 'validation' : 'train');
  });

  mkdirSync(join(o.dir, BACKGROUND_NOISE_FOLDER), { recursive: true });
  const noiseFiles: string[] = [];
  for (const recording of noise) {
    const rel = `${BACKGROUND_NOISE_FOLDER}/${recording.name}`;
    writeFileSync(join(o.dir, rel), encodeWav(recording.samples, SYNTH_SAMPLE_RATE));
    noiseFiles.push(rel);
  }
  const words: [string, number][] = [
    ...DEMO_KEYWORDS.map((w): [string, number] => [w, repetitions]),
    ...DEMO_OTHER_WORDS.map((w): [string, number] => [w, otherRepetitions]),
  ];
  const lists: Record<SplitName, string[]> = { train: [], validation: [], test: [] };
  const speakers: SynthSpeaker[] = voices.map((voice, s) => ({
    id: `spk${String(s).padStart(2, '0')}`,
    split: splitOf.get(s) as SplitName,
    description: voice.description,
  }));
  const clipRng = rng.fork();
  for (const [word, count] of words) {
    if (count === 0) continue;
    mkdirSync(join(o.dir, word), { recursive: true });
    for (const [s, voice] of voices.entries()) {
      const speaker = speakers[s] as SynthSpeaker;
      for (let n = 0; n < count; n++) {
        const rel = `${word}/${speaker.id}_nohash_${n}.wav`;
        const clip = placeInClip(voice.say(word, clipRng), noise, clipRng);
        writeFileSync(join(o.dir, rel), encodeWav(clip, SYNTH_SAMPLE_RATE));
        lists[speaker.split].push(rel);
      }
    }
  }
  writeFileSync(join(o.dir, 'validation_list.txt'), lists.validation.map((f) => `${f}\n`).join(''));
  writeFileSync(join(o.dir, 'testing_list.txt'), lists.test.map((f) => `${f}\n`).join(''));
  const dataset: SynthDataset = {
    dir: o.dir,
    generator,
    synthetic: generator === 'builtin',
    keywords: [...DEMO_KEYWORDS],
    otherWords: otherRepetitions > 0 ? [...DEMO_OTHER_WORDS] : [],
    speakers,
    clips: { train: lists.train.length, validation: lists.validation.length, test: lists.test.length },
    repetitions,
    noiseFiles,
  };
  writeFileSync(join(o.dir, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`);
  return dataset;
}

/** Words the built-in voice knows (the keywords and {@link DEMO_OTHER_WORDS}). */
export function builtinVocabulary(): string[] {
  return Object.keys(FORMANT_WORDS);
}
