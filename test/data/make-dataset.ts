/**
 * Tiny Speech Commands folders for the data tests, generated in a temp dir (no real data).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeWav } from '../../src/features/index.js';

/** A sine tone, `seconds` long at `rate`, with frequency `hz` and amplitude 0.3. */
export function tone(hz: number, seconds: number, rate = 16000): Float32Array {
  const n = Math.round(seconds * rate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.3 * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Deterministic pseudo-noise (LCG), amplitude 0.1. */
export function noise(samples: number, seed: number): Float32Array {
  const out = new Float32Array(samples);
  let s = seed >>> 0;
  for (let i = 0; i < samples; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 0.1;
  }
  return out;
}

export class TempDirs {
  private dirs: string[] = [];
  make(prefix = 'kws-data-'): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs = [];
  }
}

/** Writes `bytes` (or a WAV of `samples` at `rate`) to `root/rel`, creating folders. */
export function put(
  root: string,
  rel: string,
  content: Float32Array | Uint8Array | string,
  rate = 16000,
): void {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content instanceof Float32Array ? encodeWav(content, rate) : content);
}

/** The ten v2-12 keywords. */
export const KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];

/**
 * A small v2-12 style data set: each keyword and `cat`, `dog` with clips of speakers
 * `aaaa0001` and `aaaa0002` (0.25 s tones, frequency per file), two `_silence_` clips, one 3 s
 * background-noise recording, and lists putting speaker `aaaa0002`'s keyword clips in
 * validation and `dog/aaaa0002_nohash_0.wav` plus `_silence_/1.wav` in test.
 */
export function makeSmallDataset(root: string): { files: string[] } {
  const files: string[] = [];
  const words = [...KEYWORDS, 'cat', 'dog'];
  words.forEach((w, wi) => {
    for (const spk of ['aaaa0001', 'aaaa0002']) {
      const rel = `${w}/${spk}_nohash_0.wav`;
      put(root, rel, tone(200 + 40 * wi + (spk.endsWith('2') ? 13 : 0), 0.25));
      files.push(rel);
    }
  });
  for (const n of ['0', '1']) {
    put(root, `_silence_/${n}.wav`, noise(16000, 7 + Number(n)));
    files.push(`_silence_/${n}.wav`);
  }
  put(root, '_background_noise_/hum.wav', noise(48000, 99));
  put(root, '_background_noise_/README.md', 'not audio');
  const validation = KEYWORDS.map((w) => `${w}/aaaa0002_nohash_0.wav`).concat('cat/aaaa0002_nohash_0.wav');
  put(root, 'validation_list.txt', `${validation.join('\n')}\n`);
  put(root, 'testing_list.txt', 'dog/aaaa0002_nohash_0.wav\r\n_silence_/1.wav\r\n');
  return { files };
}
