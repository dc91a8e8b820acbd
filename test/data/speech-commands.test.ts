import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  exampleFeatures,
  fitClip,
  loadSpeechCommands,
  type Split,
  V2_12_LABELS,
  V2_35_LABELS,
  whichSet,
} from '../../src/data/index.js';
import { decodeWav, logMelSpectrogram, resample, toMono } from '../../src/features/index.js';
import { KEYWORDS, makeSmallDataset, noise, put, TempDirs, tone } from './make-dataset.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

function labelOf(split: Split, file: string): string | undefined {
  const i = split.files.indexOf(file);
  return i < 0 ? undefined : split.labelNames[split.labels[i] as number];
}

function readClip(root: string, rel: string): Float32Array {
  return toMono(decodeWav(readFileSync(join(root, rel))));
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  }
  return n;
}

const small = temp.make();
makeSmallDataset(small);

describe('labels', () => {
  it('v2-12: keywords map to themselves, other words to _unknown_, _silence_/ to _silence_', async () => {
    const data = await loadSpeechCommands(small, { features: false });
    expect(data.labels).toEqual([...V2_12_LABELS]);
    expect(data.labels.indexOf('_silence_')).toBe(10);
    expect(data.labels.indexOf('_unknown_')).toBe(11);
    const train = data.splits.train as Split;
    for (const w of KEYWORDS) expect(labelOf(train, `${w}/aaaa0001_nohash_0.wav`)).toBe(w);
    expect(labelOf(train, 'cat/aaaa0001_nohash_0.wav')).toBe('_unknown_');
    expect(labelOf(train, 'dog/aaaa0001_nohash_0.wav')).toBe('_unknown_');
    expect(labelOf(train, '_silence_/0.wav')).toBe('_silence_');
    expect(train.files.some((f) => f.startsWith('_background_noise_'))).toBe(false);
    expect(data.backgroundNoiseFiles).toEqual(['_background_noise_/hum.wav']);
    expect(data.backgroundNoise[0]?.length).toBe(48000);
  });

  it('v2-35: the 35 words alphabetically, no silence or unknown classes', async () => {
    const root = temp.make();
    for (const [i, w] of V2_35_LABELS.entries()) {
      put(root, `${w}/bbbb${String(i).padStart(4, '0')}_nohash_0.wav`, tone(300 + i, 0.1));
    }
    put(root, '_silence_/0.wav', noise(16000, 1));
    put(root, '_background_noise_/n.wav', noise(20000, 2));
    const data = await loadSpeechCommands(root, { labels: 'v2-35', features: false, splitBy: 'hash' });
    expect(data.labels).toHaveLength(35);
    expect(data.labels).toEqual([...data.labels].sort());
    const all = Object.values(data.splits).flatMap((s) => s.files.map((f) => [f, labelOf(s, f)]));
    expect(all).toHaveLength(35); // the _silence_ clip is not a class here
    for (const [file, label] of all) expect(file?.split('/')[0]).toBe(label);
  });

  it('custom lists: other words become _unknown_ only if it is listed, else they are skipped', async () => {
    const a = await loadSpeechCommands(small, {
      labels: ['no', 'yes', '_unknown_'],
      features: false,
      splits: ['train'],
    });
    const ta = a.splits.train as Split;
    expect(a.labels).toEqual(['no', 'yes', '_unknown_']);
    expect(labelOf(ta, 'no/aaaa0001_nohash_0.wav')).toBe('no');
    expect(labelOf(ta, 'up/aaaa0001_nohash_0.wav')).toBe('_unknown_');
    expect(labelOf(ta, '_silence_/0.wav')).toBeUndefined();
    expect(ta.labels.length).toBe(1 + 1 + 10); // no, yes, 8 other keywords + cat + dog as unknown

    const b = await loadSpeechCommands(small, {
      labels: ['cat', '_silence_'],
      features: false,
      splits: ['train'],
    });
    const tb = b.splits.train as Split;
    expect(tb.files).toEqual(['_silence_/0.wav', 'cat/aaaa0001_nohash_0.wav']);
    expect([...tb.labels]).toEqual([1, 0]);
  });

  it('rejects bad label lists and a listed word without clips', async () => {
    await expect(loadSpeechCommands(small, { labels: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { labels: ['yes', 'yes'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { labels: ['_background_noise_'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { labels: ['yes', 'yess'] })).rejects.toThrow(/'yess'.*yess\//);
    await expect(loadSpeechCommands(small, { labels: 'v2-35' })).rejects.toMatchObject({
      code: 'DATASET_INVALID',
    });
  });
});

describe('splits', () => {
  it('follow validation_list.txt / testing_list.txt exactly; everything else is train', async () => {
    const data = await loadSpeechCommands(small, { features: false });
    const validation = KEYWORDS.map((w) => `${w}/aaaa0002_nohash_0.wav`).concat('cat/aaaa0002_nohash_0.wav');
    expect([...(data.splits.validation as Split).files].sort()).toEqual([...validation].sort());
    expect((data.splits.test as Split).files).toEqual(['_silence_/1.wav', 'dog/aaaa0002_nohash_0.wav']);
    const train = (data.splits.train as Split).files;
    expect(train).toHaveLength(24 + 2 - 11 - 2);
    expect(train.every((f) => f.includes('aaaa0001') || f === '_silence_/0.wav')).toBe(true);
    // The only warnings: classes a split lacks (validation has no _silence_, test only two classes).
    expect(data.warnings).toHaveLength(2);
    expect(data.warnings[0]).toBe("split 'validation' has no examples of _silence_");
    expect(data.warnings[1]).toMatch(/^split 'test' has no examples of yes, no, .*, go$/);
  });

  it('without lists, follow the hash rule: deterministic and speaker-consistent', async () => {
    const root = temp.make();
    // 00007abc → validation, 00003abc → test, 00000abc → train (see split.test.ts).
    const speakers = ['00007abc', '00003abc', '00000abc', '00001abc'];
    for (const w of ['yes', 'no', 'cat'])
      for (const s of speakers)
        for (const n of [0, 1]) put(root, `${w}/${s}_nohash_${n}.wav`, tone(500, 0.05));
    const opts = { labels: ['yes', 'no', '_unknown_'], features: false as const };
    const a = await loadSpeechCommands(root, opts);
    const b = await loadSpeechCommands(root, opts);
    for (const name of ['train', 'validation', 'test'] as const) {
      const files = (a.splits[name] as Split).files;
      expect((b.splits[name] as Split).files).toEqual(files);
      for (const f of files) expect(whichSet(f)).toBe(name);
    }
    const bySpeaker = (name: 'train' | 'validation' | 'test') =>
      new Set((a.splits[name] as Split).files.map((f) => f.split('/')[1]?.slice(0, 8)));
    expect(bySpeaker('validation')).toEqual(new Set(['00007abc']));
    expect(bySpeaker('test')).toEqual(new Set(['00003abc']));
    expect(bySpeaker('train')).toEqual(new Set(['00000abc', '00001abc']));
    expect((a.splits.validation as Split).files).toHaveLength(6);
    // Percentages are options of the hash rule.
    const none = await loadSpeechCommands(root, { ...opts, validationPercentage: 0, testingPercentage: 0 });
    expect((none.splits.train as Split).files).toHaveLength(24);
    // splitBy 'lists' demands the lists.
    await expect(loadSpeechCommands(root, { ...opts, splitBy: 'lists' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('loads only the requested splits and warns about listed clips that do not exist', async () => {
    const root = temp.make();
    put(root, 'yes/a_nohash_0.wav', tone(400, 0.1));
    put(root, 'yes/b_nohash_0.wav', tone(410, 0.1));
    put(root, 'validation_list.txt', 'yes/b_nohash_0.wav\nyes/gone_nohash_0.wav\n');
    const data = await loadSpeechCommands(root, { labels: ['yes'], splits: ['validation'], features: false });
    expect(Object.keys(data.splits)).toEqual(['validation']);
    expect((data.splits.validation as Split).files).toEqual(['yes/b_nohash_0.wav']);
    expect(data.warnings.join('\n')).toMatch(/validation_list\.txt: 1 listed clip.*yes\/gone_nohash_0\.wav/);
  });
});

describe('audio and features', () => {
  it('pads and crops every clip to clipSamples (zeros at the end) and resamples other rates', async () => {
    const root = temp.make();
    const short = tone(300, 0.5);
    const long = tone(350, 1.5);
    const low = tone(440, 0.75, 8000);
    put(root, 'yes/a_nohash_0.wav', short);
    put(root, 'yes/b_nohash_0.wav', long);
    put(root, 'yes/c_nohash_0.wav', low, 8000);
    const data = await loadSpeechCommands(root, {
      labels: ['yes'],
      splits: ['train'],
      keepAudio: true,
      splitBy: 'hash',
      validationPercentage: 0,
      testingPercentage: 0,
    });
    const train = data.splits.train as Split;
    const audio = train.audio as Float32Array[];
    expect(train.files).toEqual(['yes/a_nohash_0.wav', 'yes/b_nohash_0.wav', 'yes/c_nohash_0.wav']);
    expect(audio.map((a) => a.length)).toEqual([16000, 16000, 16000]);
    const a = readClip(root, 'yes/a_nohash_0.wav');
    expect(audio[0]?.subarray(0, 8000)).toEqual(a);
    expect(audio[0]?.subarray(8000).every((v) => v === 0)).toBe(true);
    expect(audio[1]).toEqual(readClip(root, 'yes/b_nohash_0.wav').subarray(0, 16000));
    // 0.75 s at 8 kHz → 12000 samples at 16 kHz, then 4000 zeros.
    const c8k = readClip(root, 'yes/c_nohash_0.wav');
    expect(audio[2]).toEqual(fitClip(resample(c8k, 8000, 16000), 16000));
    expect(audio[2]?.subarray(12000).every((v) => v === 0)).toBe(true);
    // Features are exactly the front end of the fixed-length clip.
    expect(train.frames).toBe(101);
    expect(train.bins).toBe(40);
    expect(train.features.length).toBe(3 * 101 * 40);
    for (let i = 0; i < 3; i++) {
      expect(exampleFeatures(train, i)).toEqual(logMelSpectrogram(audio[i] as Float32Array).data);
    }
    expect(data.warnings).toEqual([]);
  });

  it('features equal logMelSpectrogram of the padded clip without keepAudio, and other front ends work', async () => {
    const data = await loadSpeechCommands(small, { splits: ['test'] });
    const test = data.splits.test as Split;
    expect(test.audio).toBeUndefined();
    const dog = fitClip(readClip(small, 'dog/aaaa0002_nohash_0.wav'), 16000);
    expect(exampleFeatures(test, test.files.indexOf('dog/aaaa0002_nohash_0.wav'))).toEqual(
      logMelSpectrogram(dog).data,
    );
    const mfccLike = await loadSpeechCommands(small, {
      splits: ['test'],
      features: { nMels: 32, hopLength: 320 },
    });
    const t2 = mfccLike.splits.test as Split;
    expect([t2.frames, t2.bins]).toEqual([51, 32]);
    expect(exampleFeatures(t2, 1)).toEqual(logMelSpectrogram(dog, { nMels: 32, hopLength: 320 }).data);
    await expect(loadSpeechCommands(small, { features: { sampleRate: 8000 } })).rejects.toThrow(
      /must equal sampleRate/,
    );
  });

  it('skips a corrupt or unreadable WAV with a warning and keeps going', async () => {
    const root = temp.make();
    put(root, 'yes/a_nohash_0.wav', tone(300, 0.2));
    put(root, 'yes/bad_nohash_0.wav', new Uint8Array([82, 73, 70, 70, 1, 2, 3]));
    put(root, 'yes/c_nohash_0.wav', tone(320, 0.2));
    put(root, 'yes/d_nohash_0.wav', new Uint8Array(0));
    const data = await loadSpeechCommands(root, {
      labels: ['yes'],
      splits: ['train'],
      splitBy: 'hash',
      validationPercentage: 0,
      testingPercentage: 0,
    });
    const train = data.splits.train as Split;
    expect(train.files).toEqual(['yes/a_nohash_0.wav', 'yes/c_nohash_0.wav']);
    expect(train.features.length).toBe(2 * 101 * 40);
    expect(exampleFeatures(train, 1)).toEqual(
      logMelSpectrogram(fitClip(readClip(root, 'yes/c_nohash_0.wav'), 16000)).data,
    );
    expect(data.stats.skipped).toBe(2);
    expect(data.warnings).toHaveLength(2);
    expect(data.warnings[0]).toMatch(/^yes\/bad_nohash_0\.wav: skipped, /);
    expect(data.warnings[1]).toMatch(/^yes\/d_nohash_0\.wav: skipped, /);
  });
});

describe('silence from background noise', () => {
  it('cuts seeded, in-bounds clips per split, reproducibly', async () => {
    const opts = { silence: { fromBackgroundNoise: { train: 5, validation: 2 } }, keepAudio: true, seed: 11 };
    const a = await loadSpeechCommands(small, opts);
    const b = await loadSpeechCommands(small, opts);
    const c = await loadSpeechCommands(small, { ...opts, seed: 12 });
    const noiseFiles = (s: Split) => s.files.filter((f) => f.includes('#'));
    const train = a.splits.train as Split;
    expect(noiseFiles(train)).toHaveLength(5);
    expect(noiseFiles(a.splits.validation as Split)).toHaveLength(2);
    expect(noiseFiles(a.splits.test as Split)).toHaveLength(0);
    expect(noiseFiles(b.splits.train as Split)).toEqual(noiseFiles(train));
    expect(noiseFiles(c.splits.train as Split)).not.toEqual(noiseFiles(train));
    const hum = a.backgroundNoise[0] as Float32Array;
    for (const [k, f] of train.files.entries()) {
      if (!f.includes('#')) continue;
      const [name, at] = f.split('#');
      expect(name).toBe('_background_noise_/hum.wav');
      const offset = Number(at);
      expect(Number.isInteger(offset) && offset >= 0 && offset <= 48000 - 16000).toBe(true);
      expect(train.labelNames[train.labels[k] as number]).toBe('_silence_');
      const clip = hum.slice(offset, offset + 16000);
      expect(train.audio?.[k]).toEqual(clip);
      expect(exampleFeatures(train, k)).toEqual(logMelSpectrogram(clip).data);
    }
    // The same train cuts when only train is loaded.
    const trainOnly = await loadSpeechCommands(small, { ...opts, splits: ['train'] });
    expect(noiseFiles(trainOnly.splits.train as Split)).toEqual(noiseFiles(train));
  });

  it('can ignore the _silence_/ folder, and needs the _silence_ label', async () => {
    const data = await loadSpeechCommands(small, {
      splits: ['train'],
      features: false,
      silence: { fromFolder: false, fromBackgroundNoise: 1 },
    });
    expect((data.splits.train as Split).files.filter((f) => f.startsWith('_silence_'))).toEqual([]);
    await expect(
      loadSpeechCommands(small, { labels: ['yes'], silence: { fromBackgroundNoise: 3 } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('unknownFraction', () => {
  it('keeps a seeded subset of round(fraction × pool) unknown clips per split', async () => {
    const root = temp.make();
    put(root, 'yes/s000_nohash_0.wav', tone(300, 0.05));
    for (let i = 0; i < 12; i++)
      put(root, `w${i % 3}/s${String(i).padStart(3, '0')}_nohash_0.wav`, tone(400 + i, 0.05));
    const opts = {
      labels: ['yes', '_unknown_'],
      features: false as const,
      splits: ['train' as const],
      splitBy: 'hash' as const,
      validationPercentage: 0,
      testingPercentage: 0,
    };
    const unknowns = async (fraction: number, seed: number) =>
      (
        await loadSpeechCommands(root, { ...opts, unknownFraction: fraction, seed })
      ).splits.train?.files.filter((f) => !f.startsWith('yes/')) ?? [];
    const half = await unknowns(0.5, 1);
    expect(half).toHaveLength(6);
    expect(await unknowns(0.5, 1)).toEqual(half);
    expect(await unknowns(0.5, 2)).not.toEqual(half);
    expect(await unknowns(0.25, 1)).toHaveLength(3);
    expect(await unknowns(0, 1)).toHaveLength(0);
    expect(await unknowns(1, 1)).toHaveLength(12);
    await expect(loadSpeechCommands(root, { ...opts, unknownFraction: 1.5 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('progress', () => {
  it('is called periodically and reaches total', async () => {
    const root = temp.make();
    for (let i = 0; i < 70; i++)
      put(root, `yes/s${String(i).padStart(3, '0')}_nohash_0.wav`, tone(300 + i, 0.02));
    const calls: [number, number][] = [];
    const data = await loadSpeechCommands(root, {
      labels: ['yes'],
      features: false,
      onProgress: (done, total) => calls.push([done, total]),
    });
    const n = Object.values(data.splits).reduce((a, s) => a + s.labels.length, 0);
    expect(n).toBe(70);
    expect(calls[0]).toEqual([0, 70]);
    expect(calls.at(-1)).toEqual([70, 70]);
    expect(calls.length).toBeGreaterThanOrEqual(4); // 70 files in batches of 32, over three splits
    for (let k = 1; k < calls.length; k++)
      expect(calls[k]?.[0]).toBeGreaterThanOrEqual(calls[k - 1]?.[0] as number);
  });
});

describe('on-disk feature cache', () => {
  it('returns identical features on the second load, and recomputes when the file or config changes', async () => {
    const root = temp.make();
    makeSmallDataset(root);
    const cacheDir = join(temp.make('kws-cache-'), 'nested');
    const first = await loadSpeechCommands(root, { cacheDir });
    const n = Object.values(first.splits).reduce((a, s) => a + s.labels.length, 0);
    expect(n).toBe(26);
    expect(first.stats).toEqual({ cacheHits: 0, cacheMisses: 26, skipped: 0 });
    expect(countFiles(cacheDir)).toBe(26);

    const second = await loadSpeechCommands(root, { cacheDir });
    expect(second.stats).toEqual({ cacheHits: 26, cacheMisses: 0, skipped: 0 });
    for (const name of ['train', 'validation', 'test'] as const) {
      expect(second.splits[name]?.features).toEqual(first.splits[name]?.features);
      expect(second.splits[name]?.files).toEqual(first.splits[name]?.files);
    }

    // A touched file is recomputed; the rest still hit.
    const touched = join(root, 'yes/aaaa0001_nohash_0.wav');
    utimesSync(touched, new Date(2001, 1, 1), new Date(2001, 1, 1));
    const third = await loadSpeechCommands(root, { cacheDir });
    expect(third.stats).toEqual({ cacheHits: 25, cacheMisses: 1, skipped: 0 });
    expect(third.splits.train?.features).toEqual(first.splits.train?.features);

    // Another front-end config never reads the old entries.
    const other = await loadSpeechCommands(root, { cacheDir, features: { nMels: 20 } });
    expect(other.stats).toEqual({ cacheHits: 0, cacheMisses: 26, skipped: 0 });
    const test = other.splits.test as Split;
    expect(test.bins).toBe(20);
    const dog = fitClip(readClip(root, 'dog/aaaa0002_nohash_0.wav'), 16000);
    expect(exampleFeatures(test, 1)).toEqual(logMelSpectrogram(dog, { nMels: 20 }).data);
    const again = await loadSpeechCommands(root, { cacheDir, features: { nMels: 20 } });
    expect(again.stats.cacheHits).toBe(26);
    expect(again.splits.test?.features).toEqual(test.features);
  });
});

describe('layout errors', () => {
  it('NOT_FOUND for a missing folder, DATASET_INVALID for a folder that is not Speech Commands', async () => {
    const missing = join(temp.make(), 'nope');
    await expect(loadSpeechCommands(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const empty = temp.make();
    put(empty, 'notes.txt', 'hello');
    put(empty, 'sub/readme.md', 'hi');
    await expect(loadSpeechCommands(empty)).rejects.toMatchObject({ code: 'DATASET_INVALID' });
    await expect(loadSpeechCommands(empty)).rejects.toThrow(/sub-folders per word/);

    const flat = temp.make();
    put(flat, 'a.wav', tone(300, 0.1));
    await expect(loadSpeechCommands(flat)).rejects.toMatchObject({ code: 'DATASET_INVALID' });
    await expect(loadSpeechCommands(join(flat, 'a.wav'))).rejects.toMatchObject({ code: 'DATASET_INVALID' });

    const flac = temp.make();
    put(flac, 'yes/a_nohash_0.flac', 'fLaC');
    await expect(loadSpeechCommands(flac)).rejects.toThrow(/\.flac.*decode them to \.wav/);
  });

  it('rejects bad options', async () => {
    await expect(loadSpeechCommands('' as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(loadSpeechCommands(small, { splits: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { splits: ['training' as 'train'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { clipSamples: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadSpeechCommands(small, { onProgress: 3 as unknown as () => void })).rejects.toMatchObject(
      { code: 'INVALID_ARGUMENT' },
    );
  });
});
