import { describe, expect, it } from 'vitest';
import { WavStreamDecoder } from '../../src/cli/wav-stream.js';
import { decodeWav, encodeWav, toMono } from '../../src/features/index.js';
import { noise, tone } from '../data/make-dataset.js';

/** Feeds `bytes` in pieces of `size` bytes; returns the concatenated output. */
function stream(decoder: WavStreamDecoder, bytes: Uint8Array, size: number): Float32Array {
  const parts: Float32Array[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(decoder.push(bytes.slice(at, at + size)));
  parts.push(decoder.end());
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `wav` with a `LIST` chunk of `n` bytes (odd: padded) inserted before its `data` chunk. */
function withListChunk(wav: Uint8Array, n: number): Uint8Array {
  const at = findChunk(wav, 'data');
  const list = new Uint8Array(8 + n + (n % 2));
  list.set([0x4c, 0x49, 0x53, 0x54]);
  new DataView(list.buffer).setUint32(4, n, true);
  const out = new Uint8Array(wav.length + list.length);
  out.set(wav.subarray(0, at));
  out.set(list, at);
  out.set(wav.subarray(at), at + list.length);
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  return out;
}

function findChunk(wav: Uint8Array, id: string): number {
  for (let i = 12; i + 4 <= wav.length; i++) {
    if (String.fromCharCode(...wav.subarray(i, i + 4)) === id) return i;
  }
  throw new Error(`no ${id}`);
}

describe('WavStreamDecoder', () => {
  const left = tone(440, 0.3);
  const right = noise(left.length, 4);

  it.each([
    ['16-bit stereo', encodeWav([left, right], 16000)],
    ['32-bit float stereo', encodeWav([left, right], 16000, { bitDepth: 32 })],
    ['16-bit mono with a LIST chunk before data', withListChunk(encodeWav(left, 16000), 13)],
  ])('%s: any piece size gives toMono(decodeWav(file)) exactly', (_name, wav) => {
    const expected = toMono(decodeWav(wav));
    for (const size of [1, 3, 44, 1000, wav.length]) {
      const decoder = new WavStreamDecoder();
      expect(stream(decoder, wav, size)).toEqual(expected);
      expect(decoder.sampleRate).toBe(16000);
      expect(decoder.warnings).toEqual([]);
    }
  });

  it('ignores bytes after a declared data size; reads to the end when the size is unknown', () => {
    const wav = encodeWav(left, 8000);
    const expected = toMono(decodeWav(wav));
    const trailing = new Uint8Array(wav.length + 6);
    trailing.set(wav);
    trailing.set([1, 2, 3, 4, 5, 6], wav.length);
    expect(stream(new WavStreamDecoder(), trailing, 100)).toEqual(expected);

    for (const unknown of [0, 0xffffffff, 0x7fffffff]) {
      const piped = wav.slice();
      new DataView(piped.buffer).setUint32(40, unknown, true);
      const decoder = new WavStreamDecoder();
      expect(stream(decoder, piped, 77)).toEqual(expected);
      expect(decoder.warnings).toEqual([]);
    }
  });

  it('warns about a stream cut inside a frame or before the declared end', () => {
    const wav = encodeWav([left, right], 16000);
    const decoder = new WavStreamDecoder();
    const out = stream(decoder, wav.subarray(0, wav.length - 3), 500);
    expect(out).toEqual(toMono(decodeWav(wav)).subarray(0, out.length));
    expect(out.length).toBe(left.length - 1);
    expect(decoder.warnings).toEqual([
      'the last 1 byte(s) do not make a whole sample frame; dropped',
      `the WAV 'data' chunk declares ${left.length * 4} bytes but the input ended after ${left.length * 4 - 3}`,
    ]);
  });

  it('decodes headerless 16-bit PCM with raw', () => {
    const wav = encodeWav(left, 22050);
    const decoder = new WavStreamDecoder({ sampleRate: 22050 });
    expect(stream(decoder, wav.subarray(44), 5)).toEqual(toMono(decodeWav(wav)));
    expect(decoder.sampleRate).toBe(22050);
  });

  it('rejects what is not a WAV decodeWav reads, with its error codes', () => {
    const reject = (bytes: Uint8Array) => () => stream(new WavStreamDecoder(), bytes, 10);
    expect(reject(new TextEncoder().encode('definitely not a wav file'))).toThrow(
      expect.objectContaining({ code: 'WAV_INVALID' }),
    );
    expect(reject(encodeWav(left, 16000).subarray(0, 30))).toThrow(
      expect.objectContaining({ code: 'WAV_TRUNCATED' }),
    );
    const adpcm = encodeWav(left, 16000);
    new DataView(adpcm.buffer).setUint16(20, 2, true);
    expect(reject(adpcm)).toThrow(expect.objectContaining({ code: 'WAV_UNSUPPORTED' }));
    const rf64 = encodeWav(left, 16000);
    rf64.set([0x52, 0x46, 0x36, 0x34]);
    expect(reject(rf64)).toThrow(expect.objectContaining({ code: 'WAV_UNSUPPORTED' }));
  });
});
