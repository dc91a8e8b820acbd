/**
 * Speech from the `espeak-ng` command-line synthesiser, when it is installed: one word with a
 * given voice, speed and pitch, as 16 kHz mono samples.
 *
 * Node only (`node:child_process`).
 *
 * @packageDocumentation
 */
import { spawnSync } from 'node:child_process';
import { KwsError } from '../errors.js';
import { decodeWav, resample, toMono } from '../features/index.js';

/** One espeak-ng voice setting. */
export interface EspeakVoice {
  /** `-v` argument: a voice and optional variant, e.g. `'en-us+f3'`. */
  voice: string;
  /** `-s`: words per minute (espeak-ng's default 175). */
  speed: number;
  /** `-p`: pitch in [0, 99] (default 50). */
  pitch: number;
}

/** English voices of a stock espeak-ng install (no mbrola voices). */
export const ESPEAK_ENGLISH_VOICES: readonly string[] = [
  'en-us',
  'en-gb',
  'en-gb-scotland',
  'en-gb-x-rp',
  'en-029',
  'en-gb-x-gbclan',
  'en-gb-x-gbcwmd',
];

/** Voice variants shipped with espeak-ng (`+m3`, `+f2`, …). */
export const ESPEAK_VARIANTS: readonly string[] = [
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
];

/** The `espeak-ng` executable name (looked up on PATH). */
export const ESPEAK_COMMAND = 'espeak-ng';

/** Whether `espeak-ng` runs here (`espeak-ng --version` exits with 0). */
export function espeakAvailable(command: string = ESPEAK_COMMAND): boolean {
  const run = spawnSync(command, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return run.error === undefined && run.status === 0;
}

/**
 * Sets the RIFF and `data` chunk sizes of a WAV written to a pipe (espeak-ng `--stdout` cannot
 * seek back and leaves placeholders near 2³¹) to what the bytes hold. Works in place on `bytes`
 * and returns it; a buffer without a `data` chunk is returned unchanged.
 */
export function fixStreamedWavSizes(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 12) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = String.fromCharCode(
      bytes[at] as number,
      bytes[at + 1] as number,
      bytes[at + 2] as number,
      bytes[at + 3] as number,
    );
    if (id === 'data') {
      view.setUint32(at + 4, bytes.length - at - 8, true);
      view.setUint32(4, bytes.length - 8, true);
      return bytes;
    }
    at += 8 + view.getUint32(at + 4, true);
  }
  return bytes;
}

/**
 * Says `text` with espeak-ng and returns it as mono samples at `sampleRate` (espeak-ng writes
 * 22050 Hz; the kws-kit resampler converts).
 *
 * @throws KwsError `NOT_FOUND` when espeak-ng cannot be run, `INVALID_ARGUMENT` when it fails on
 *   the text or voice.
 */
export function synthesizeEspeak(
  text: string,
  voice: EspeakVoice,
  sampleRate: number,
  command: string = ESPEAK_COMMAND,
): Float32Array {
  const args = [
    '-v',
    voice.voice,
    '-s',
    String(Math.round(voice.speed)),
    '-p',
    String(Math.round(voice.pitch)),
    '--stdout',
    text,
  ];
  const run = spawnSync(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: 30_000 });
  if (run.error !== undefined) {
    throw new KwsError('NOT_FOUND', `cannot run ${command}: ${run.error.message}`);
  }
  if (run.status !== 0 || run.stdout.length < 44) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${command} ${args.join(' ')} failed (exit ${run.status}): ${String(run.stderr).trim()}`,
    );
  }
  const bytes = fixStreamedWavSizes(new Uint8Array(run.stdout));
  const wav = decodeWav(bytes);
  return resample(toMono(wav), wav.sampleRate, sampleRate);
}
