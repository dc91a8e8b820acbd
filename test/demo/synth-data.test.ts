import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpeechCommands } from '../../src/data/index.js';
import { linkSpeechCommandsSubset } from '../../src/demo/data-subset.js';
import { espeakAvailable, fixStreamedWavSizes, synthesizeEspeak } from '../../src/demo/espeak.js';
import { FORMANT_WORDS, synthesizeFormantWord } from '../../src/demo/formant-voice.js';
import { glueTrack } from '../../src/demo/glued-track.js';
import {
  DEMO_KEYWORDS,
  DEMO_OTHER_WORDS,
  makeSynthDataset,
  speakerSplitSizes,
} from '../../src/demo/synth-data.js';
import { decodeWav, encodeWav } from '../../src/features/index.js';
import { createRng } from '../../src/random.js';

const root = mkdtempSync(join(tmpdir(), 'kws-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` (relative paths, sorted) with its bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else out.set(path, readFileSync(join(dir, path)));
    }
  };
  walk('');
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

const small = { source: 'builtin' as const, speakers: 3, repetitions: 2, noiseSeconds: 2 };

describe('makeSynthDataset (built-in generator)', () => {
  const dir = join(root, 'a');
  const set = makeSynthDataset({ dir, ...small, seed: 5 });

  it('writes the Speech Commands layout, split by speaker', () => {
    expect(set.generator).toBe('builtin');
    expect(set.synthetic).toBe(true);
    expect(set.speakers.map((s) => s.split).sort()).toEqual(['test', 'train', 'validation']);
    for (const word of [...DEMO_KEYWORDS, ...DEMO_OTHER_WORDS]) {
      const reps = DEMO_KEYWORDS.includes(word) ? 2 : 1;
      const expected = set.speakers.flatMap((s) =>
        Array.from({ length: reps }, (_, n) => `${s.id}_nohash_${n}.wav`),
      );
      expect(readdirSync(join(dir, word)).sort()).toEqual(expected.sort());
    }
    expect(readdirSync(join(dir, '_background_noise_')).sort()).toEqual([
      'brown_noise.wav',
      'hum_and_fan.wav',
      'lowpass_noise.wav',
      'white_noise.wav',
    ]);
    const list = (name: string): string[] =>
      readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean);
    const speakerOf = (split: string): string =>
      (set.speakers.find((s) => s.split === split) as { id: string }).id;
    const validation = list('validation_list.txt');
    const testing = list('testing_list.txt');
    // One speaker each: 10 keywords × 2 + 6 other words × 1.
    expect(validation).toHaveLength(26);
    expect(testing).toHaveLength(26);
    for (const f of validation) expect(f).toContain(`/${speakerOf('validation')}_nohash_`);
    for (const f of testing) expect(f).toContain(`/${speakerOf('test')}_nohash_`);
    for (const f of [...validation, ...testing]) expect(existsSync(join(dir, f))).toBe(true);
    expect(set.clips).toEqual({ train: 26, validation: 26, test: 26 });
    expect(JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'))).toEqual(set);
  });

  it('writes 1 s, 16 kHz mono clips with a word in them', () => {
    const wav = decodeWav(readFileSync(join(dir, 'yes', 'spk00_nohash_1.wav')));
    expect(wav.sampleRate).toBe(16000);
    expect(wav.channels).toHaveLength(1);
    const x = wav.channels[0] as Float32Array;
    expect(x.length).toBe(16000);
    const peak = x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(0.2);
    expect(peak).toBeLessThanOrEqual(1);
  });

  it('is loaded by loadSpeechCommands with the v2-12 labels', async () => {
    const data = await loadSpeechCommands(dir, { labels: 'v2-12', features: false });
    expect(data.splits.train?.labels.length).toBe(26);
    expect(data.splits.validation?.labels.length).toBe(26);
    expect(data.splits.test?.labels.length).toBe(26);
    const unknown = data.labels.indexOf('_unknown_');
    expect([...(data.splits.test?.labels ?? [])].filter((l) => l === unknown)).toHaveLength(6);
    expect(data.backgroundNoise).toHaveLength(4);
  });

  it('is deterministic by seed: same seed, same bytes; another seed, other bytes', () => {
    const again = makeSynthDataset({ dir: join(root, 'b'), ...small, seed: 5 });
    const other = makeSynthDataset({ dir: join(root, 'c'), ...small, seed: 6 });
    const a = tree(dir);
    const b = tree(join(root, 'b'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, bytes] of a) {
      if (path === 'dataset.json') continue; // holds the folder path
      expect(b.get(path)?.equals(bytes), path).toBe(true);
    }
    expect({ ...again, dir }).toEqual(set);
    const c = tree(join(root, 'c'));
    expect(c.get('yes/spk00_nohash_0.wav')?.equals(a.get('yes/spk00_nohash_0.wav') as Buffer)).toBe(false);
    expect(other.speakers.map((s) => s.description)).not.toEqual(set.speakers.map((s) => s.description));
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    expect(() => makeSynthDataset({ dir: join(root, 'x'), speakers: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => makeSynthDataset({ dir: join(root, 'x'), source: 'flite' as 'auto' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => makeSynthDataset({ dir: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('links a seeded subset of a Speech Commands folder, keeping each clip in its split', () => {
    const subset = linkSpeechCommandsSubset(dir, join(root, 'subset'), DEMO_KEYWORDS, 1, 0);
    expect(subset.splitBy).toBe('lists');
    // Per split: one clip per keyword, and ceil(2·1/6) = 1 per other word.
    expect(subset.clips).toEqual({ train: 16, validation: 16, test: 16 });
    const validation = readFileSync(join(subset.dir, 'validation_list.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const original = new Set(readFileSync(join(dir, 'validation_list.txt'), 'utf8').split('\n'));
    for (const f of validation) {
      expect(original.has(f)).toBe(true);
      expect(readlinkSync(join(subset.dir, f))).toBe(join(dir, f));
    }
    expect(readdirSync(join(subset.dir, '_background_noise_'))).toHaveLength(4);
    expect(() =>
      linkSpeechCommandsSubset(join(root, 'missing'), join(root, 's2'), DEMO_KEYWORDS, 1, 0),
    ).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('speakerSplitSizes', () => {
  it('holds out 15 % of the speakers for each of validation and test, at least one', () => {
    expect(speakerSplitSizes(3)).toEqual({ validation: 1, test: 1 });
    expect(speakerSplitSizes(12)).toEqual({ validation: 2, test: 2 });
    expect(speakerSplitSizes(20)).toEqual({ validation: 3, test: 3 });
  });
});

describe('the built-in formant voice', () => {
  const speaker = { f0: 120, formantScale: 1, rate: 1, breathiness: 0 };

  it('renders each segment for its duration divided by the rate, peak 0.5', () => {
    for (const rate of [1, 1.25]) {
      const x = synthesizeFormantWord('stop', { ...speaker, rate }, 16000, createRng(1));
      const ms = (FORMANT_WORDS.stop ?? []).map((s) => Math.round((s.ms / rate / 1000) * 16000));
      expect(x.length).toBe(ms.reduce((a, b) => a + b, 0));
      expect(x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeCloseTo(0.5, 6);
    }
  });

  it('is a function of the rng state, and throws NOT_FOUND for an unknown word', () => {
    const a = synthesizeFormantWord('yes', speaker, 16000, createRng(2));
    const b = synthesizeFormantWord('yes', speaker, 16000, createRng(2));
    expect(b).toEqual(a);
    expect(() => synthesizeFormantWord('banana', speaker, 16000, createRng(2))).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});

describe('espeak-ng helpers', () => {
  it('fixStreamedWavSizes repairs the placeholder sizes of a WAV written to a pipe', () => {
    const samples = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i / 5) * 0.5);
    const bytes = encodeWav(samples, 22050);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setUint32(4, 0x7fffff24, true);
    view.setUint32(40, 0x7ffff000, true);
    expect(() => decodeWav(bytes)).toThrow(expect.objectContaining({ code: 'WAV_TRUNCATED' }));
    const fixed = decodeWav(fixStreamedWavSizes(bytes));
    expect(fixed.channels[0]?.length).toBe(300);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
  });

  it.runIf(espeakAvailable())('synthesizeEspeak says a word at 16 kHz', () => {
    const x = synthesizeEspeak('yes', { voice: 'en-us', speed: 160, pitch: 50 }, 16000);
    expect(x.length).toBeGreaterThan(3000);
    expect(x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.05);
  });
});

describe('glueTrack', () => {
  it('lays clips in order between gaps on a looped noise bed and reports their spans', () => {
    const clip = (label: string, n: number) => ({ label, audio: new Float32Array(n).fill(0.5) });
    const track = glueTrack([clip('yes', 1600), clip('_unknown_', 800)], {
      sampleRate: 16000,
      noise: [new Float32Array([0.1, -0.1])],
      noiseGain: 0.5,
      gapMs: [100, 100],
      rng: createRng(0),
    });
    expect(track.parts).toEqual([
      { label: 'yes', startMs: 100, endMs: 200 },
      { label: '_unknown_', startMs: 300, endMs: 350 },
    ]);
    expect(track.samples.length).toBe(1600 * 3 + 1600 + 800);
    expect(track.durationMs).toBe(450);
    expect(Math.abs(track.samples[0] as number)).toBeCloseTo(0.05, 6);
    expect(Math.abs((track.samples[1700] as number) - 0.5)).toBeCloseTo(0.05, 6);
    expect(() =>
      glueTrack([], {
        sampleRate: 16000,
        noise: [new Float32Array(1)],
        noiseGain: 1,
        gapMs: [0, 0],
        rng: createRng(0),
      }),
    ).toThrow(expect.objectContaining({ code: 'EMPTY_INPUT' }));
  });
});
