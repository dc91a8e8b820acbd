import { describe, expect, it } from 'vitest';
import { KwsError, WavDecodeError } from '../../src/errors.js';
import { decodeWav, encodeWav, toMono } from '../../src/features/wav.js';
import { createRng, type Rng } from '../../src/random.js';

// ---------------------------------------------------------------------------------------------
// Hand-built WAV files
// ---------------------------------------------------------------------------------------------

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function le(bytes: number, value: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Integer samples as little-endian two's complement (8-bit: stored as given, unsigned). */
function ints(bits: number, values: number[]): Uint8Array {
  const b = bits / 8;
  return cat(...values.map((v) => le(b, v < 0 ? v + 2 ** bits : v)));
}

function floats(bits: 32 | 64, values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * (bits / 8));
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (bits === 32) dv.setFloat32(i * 4, v, true);
    else dv.setFloat64(i * 8, v, true);
  });
  return out;
}

function fmtBody(
  tag: number,
  ch: number,
  rate: number,
  bits: number,
  blockAlign = (ch * bits) / 8,
): Uint8Array {
  return cat(le(2, tag), le(2, ch), le(4, rate), le(4, rate * blockAlign), le(2, blockAlign), le(2, bits));
}

const GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function extFmtBody(subTag: number, ch: number, rate: number, bits: number, validBits = bits): Uint8Array {
  return cat(
    fmtBody(0xfffe, ch, rate, bits),
    le(2, 22),
    le(2, validBits),
    le(4, ch === 2 ? 3 : 4),
    le(4, subTag),
    Uint8Array.from(GUID_TAIL),
  );
}

interface ChunkSpec {
  id: string;
  body: Uint8Array;
  /** Overrides the size field. */
  size?: number;
  /** Write the pad byte after an odd body (default true). */
  pad?: boolean;
}

interface Layout {
  id: string;
  at: number;
  body: number;
  bodyEnd: number;
  next: number;
}

interface Built {
  bytes: Uint8Array;
  chunks: Layout[];
}

function build(specs: ChunkSpec[], riffSize?: number): Built {
  const parts: Uint8Array[] = [];
  const chunks: Layout[] = [];
  let o = 12;
  for (const s of specs) {
    const padded = s.body.length % 2 === 1 && s.pad !== false;
    parts.push(
      ascii(s.id),
      le(4, s.size ?? s.body.length),
      s.body,
      padded ? new Uint8Array([0x5a]) : new Uint8Array(),
    );
    chunks.push({
      id: s.id,
      at: o,
      body: o + 8,
      bodyEnd: o + 8 + s.body.length,
      next: o + 8 + s.body.length + (padded ? 1 : 0),
    });
    o += 8 + s.body.length + (padded ? 1 : 0);
  }
  const body = cat(...parts);
  return { bytes: cat(ascii('RIFF'), le(4, riffSize ?? body.length + 4), ascii('WAVE'), body), chunks };
}

const wav = (specs: ChunkSpec[], riffSize?: number) => build(specs, riffSize).bytes;

const list = (n: number) => ({
  id: 'LIST',
  body: cat(
    ascii('INFO'),
    Uint8Array.from({ length: n - 4 }, (_, i) => 65 + (i % 26)),
  ),
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof KwsError) return e.code;
    throw e;
  }
  return 'OK';
}

function f32(values: number[]): Float32Array {
  return Float32Array.from(values);
}

// ---------------------------------------------------------------------------------------------
// Reference decoder (the documented rules, written independently and naively) for fuzzing
// ---------------------------------------------------------------------------------------------

type Ref =
  | { ok: true; sampleRate: number; channels: Float32Array[]; dataSize: number; blockAlign: number }
  | { ok: false; code: string };

function reference(bytes: Uint8Array): Ref {
  const n = bytes.length;
  const fail = (code: string): Ref => ({ ok: false, code });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
  const id = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const head = 'RIFF????WAVE';
  if (n < 12 && Array.from(bytes).every((b, i) => head[i] === '?' || b === head.charCodeAt(i)))
    return fail('WAV_TRUNCATED');
  if (['RIFX', 'RF64', 'BW64'].includes(id(0))) return fail('WAV_UNSUPPORTED');
  if (n < 12 || id(0) !== 'RIFF' || id(8) !== 'WAVE') return fail('WAV_INVALID');

  let fmt: { tag: number; ch: number; rate: number; align: number; bits: number } | undefined;
  let data: { at: number; size: number } | undefined;
  let ranOut = false;
  for (let p = 12; p < n && !(fmt && data); ) {
    if (p + 8 > n) {
      ranOut = true;
      break;
    }
    const cid = id(p);
    const size = dv.getUint32(p + 4, true);
    const fits = p + 8 + size <= n;
    if (cid === 'fmt ' && !fmt) {
      if (!fits) return fail('WAV_TRUNCATED');
      if (size < 16) return fail('WAV_INVALID');
      let tag = dv.getUint16(p + 8, true);
      const ch = dv.getUint16(p + 10, true);
      const rate = dv.getUint32(p + 12, true);
      const align = dv.getUint16(p + 20, true);
      const bits = dv.getUint16(p + 22, true);
      if (tag === 0xfffe) {
        if (size < 40) return fail('WAV_INVALID');
        const g = Array.from(bytes.subarray(p + 32, p + 48));
        const sub = dv.getUint32(p + 32, true);
        if (g.slice(4).join() !== GUID_TAIL.join() || (sub !== 1 && sub !== 3))
          return fail('WAV_UNSUPPORTED');
        tag = sub;
      }
      if (tag !== 1 && tag !== 3) return fail('WAV_UNSUPPORTED');
      if (ch === 0) return fail('WAV_INVALID');
      if (ch > 256) return fail('WAV_UNSUPPORTED');
      if (rate === 0 || bits === 0) return fail('WAV_INVALID');
      if (!(tag === 1 ? [8, 16, 24, 32] : [32, 64]).includes(bits)) return fail('WAV_UNSUPPORTED');
      if (align !== (ch * bits) / 8) return fail('WAV_INVALID');
      fmt = { tag, ch, rate, align, bits };
    } else if (cid === 'data' && !data) {
      if (!fits) return fail('WAV_TRUNCATED');
      data = { at: p + 8, size };
    } else if (!fits) {
      ranOut = true;
      break;
    }
    p += 8 + size + (size % 2);
  }
  if (!fmt || !data) return fail(ranOut || dv.getUint32(4, true) + 8 > n ? 'WAV_TRUNCATED' : 'WAV_INVALID');
  if (data.size % fmt.align !== 0) return fail('WAV_TRUNCATED');
  const frames = data.size / fmt.align;
  const bps = fmt.bits / 8;
  const channels = Array.from({ length: fmt.ch }, () => new Float32Array(frames));
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < fmt.ch; c++) {
      const p = data.at + f * fmt.align + c * bps;
      let x: number;
      if (fmt.tag === 3) x = bps === 4 ? dv.getFloat32(p, true) : dv.getFloat64(p, true);
      else {
        let v = 0;
        for (let k = 0; k < bps; k++) v += (bytes[p + k] as number) * 2 ** (8 * k);
        if (fmt.bits === 8) v -= 128;
        else if (v >= 2 ** (fmt.bits - 1)) v -= 2 ** fmt.bits;
        x = Math.fround(v / 2 ** (fmt.bits - 1));
        if (x >= 1) x = Math.fround(1 - 2 ** -24);
      }
      (channels[c] as Float32Array)[f] = x;
    }
  }
  return { ok: true, sampleRate: fmt.rate, channels, dataSize: data.size, blockAlign: fmt.align };
}

/** Bitwise equality of channel sets (NaN payloads aside: any NaN equals any NaN). */
function sameChannels(a: Float32Array[], b: Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let c = 0; c < a.length; c++) {
    const x = a[c] as Float32Array;
    const y = b[c] as Float32Array;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const u = x[i] as number;
      const v = y[i] as number;
      if (!(Object.is(u, v) || (Number.isNaN(u) && Number.isNaN(v)))) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Decoding known values
// ---------------------------------------------------------------------------------------------

describe('decodeWav: sample formats', () => {
  it('8-bit unsigned PCM: (b − 128) / 128', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 8000, 8) },
      { id: 'data', body: Uint8Array.from([0, 64, 128, 192, 255]) },
    ]);
    const { sampleRate, channels } = decodeWav(file);
    expect(sampleRate).toBe(8000);
    expect(channels).toHaveLength(1);
    expect(Array.from(channels[0] as Float32Array)).toEqual([-1, -0.5, 0, 0.5, 127 / 128]);
  });

  it('16-bit PCM: v / 32768', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) },
      { id: 'data', body: ints(16, [0, 1, -1, 16384, -16384, 32767, -32768]) },
    ]);
    const ch = decodeWav(file).channels[0] as Float32Array;
    expect(Array.from(ch)).toEqual([0, 1 / 32768, -1 / 32768, 0.5, -0.5, 32767 / 32768, -1]);
  });

  it('24-bit PCM: v / 8388608 with sign extension', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 48000, 24) },
      { id: 'data', body: ints(24, [0, 1, -1, 4194304, 8388607, -8388608, -2]) },
    ]);
    const { sampleRate, channels } = decodeWav(file);
    expect(sampleRate).toBe(48000);
    expect(Array.from(channels[0] as Float32Array)).toEqual([
      0,
      1 / 8388608,
      -1 / 8388608,
      0.5,
      8388607 / 8388608,
      -1,
      -2 / 8388608,
    ]);
  });

  it('32-bit PCM: v / 2^31, full scale kept below 1', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 16000, 32) },
      { id: 'data', body: ints(32, [0, 2 ** 30, -(2 ** 31), 2 ** 31 - 1, 256, -(2 ** 29)]) },
    ]);
    const ch = decodeWav(file).channels[0] as Float32Array;
    expect(Array.from(ch)).toEqual([0, 0.5, -1, 1 - 2 ** -24, 2 ** -23, -0.25]);
    expect(ch[3]).toBeLessThan(1);
  });

  it('32-bit float passes values through, including out-of-range ones', () => {
    const values = [0.25, -1.5, 3e-8, 1, -0, 1e-45];
    const file = wav([
      { id: 'fmt ', body: fmtBody(3, 1, 22050, 32) },
      { id: 'data', body: floats(32, values) },
    ]);
    const ch = decodeWav(file).channels[0] as Float32Array;
    expect(Array.from(ch)).toEqual(values.map(Math.fround));
    expect(Object.is(ch[4], -0)).toBe(true);
  });

  it('64-bit float rounds to float32 (overflow → ±Infinity)', () => {
    const file = wav([
      { id: 'fmt ', body: cat(fmtBody(3, 1, 16000, 64), le(2, 0)) },
      { id: 'fact', body: le(4, 4) },
      { id: 'data', body: floats(64, [0.1, 1e40, -0.5, -1e300]) },
    ]);
    const ch = decodeWav(file).channels[0] as Float32Array;
    expect(Array.from(ch)).toEqual([Math.fround(0.1), Infinity, -0.5, -Infinity]);
  });

  it('stereo 16-bit de-interleaves frame by frame', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 2, 44100, 16) },
      { id: 'data', body: ints(16, [100, -200, 300, -400, 500, -600]) },
    ]);
    const { channels } = decodeWav(file);
    expect(channels).toHaveLength(2);
    expect(Array.from(channels[0] as Float32Array)).toEqual([100, 300, 500].map((v) => v / 32768));
    expect(Array.from(channels[1] as Float32Array)).toEqual([-200, -400, -600].map((v) => v / 32768));
  });

  it('stereo 8-bit and 3-channel 24-bit', () => {
    const s8 = decodeWav(
      wav([
        { id: 'fmt ', body: fmtBody(1, 2, 8000, 8) },
        { id: 'data', body: Uint8Array.from([0, 255, 128, 64]) },
      ]),
    );
    expect(s8.channels.map((c) => Array.from(c))).toEqual([
      [-1, 0],
      [127 / 128, -0.5],
    ]);
    const s24 = decodeWav(
      wav([
        { id: 'fmt ', body: fmtBody(1, 3, 16000, 24) },
        { id: 'data', body: ints(24, [1, 2, 3, -1, -2, -3]) },
      ]),
    );
    expect(s24.channels.map((c) => Array.from(c, (x) => x * 8388608))).toEqual([
      [1, -1],
      [2, -2],
      [3, -3],
    ]);
  });

  it('WAVE_FORMAT_EXTENSIBLE PCM (24 valid bits in 32-bit containers), stereo', () => {
    const file = wav([
      { id: 'fmt ', body: extFmtBody(1, 2, 96000, 32, 24) },
      { id: 'data', body: ints(32, [0x7fffff00, -0x80000000, 0x00000100, -0x00000100]) },
    ]);
    const { sampleRate, channels } = decodeWav(file);
    expect(sampleRate).toBe(96000);
    expect(Array.from(channels[0] as Float32Array)).toEqual([8388607 / 8388608, 1 / 8388608]);
    expect(Array.from(channels[1] as Float32Array)).toEqual([-1, -1 / 8388608]);
  });

  it('WAVE_FORMAT_EXTENSIBLE 16-bit PCM and IEEE float (32 and 64)', () => {
    const p16 = decodeWav(
      wav([
        { id: 'fmt ', body: extFmtBody(1, 1, 16000, 16) },
        { id: 'data', body: ints(16, [-32768, 16384]) },
      ]),
    );
    expect(Array.from(p16.channels[0] as Float32Array)).toEqual([-1, 0.5]);
    const fl32 = decodeWav(
      wav([
        { id: 'fmt ', body: extFmtBody(3, 2, 16000, 32) },
        { id: 'fact', body: le(4, 2) },
        { id: 'data', body: floats(32, [0.75, -0.125, 2, 0.1]) },
      ]),
    );
    expect(fl32.channels.map((c) => Array.from(c))).toEqual([
      [0.75, 2],
      [-0.125, Math.fround(0.1)],
    ]);
    const fl64 = decodeWav(
      wav([
        { id: 'fmt ', body: extFmtBody(3, 1, 16000, 64) },
        { id: 'data', body: floats(64, [0.3, -0.6]) },
      ]),
    );
    expect(Array.from(fl64.channels[0] as Float32Array)).toEqual([Math.fround(0.3), Math.fround(-0.6)]);
  });

  it('accepts ArrayBuffer, Buffer, DataView, other typed arrays and unaligned subarrays', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) },
      { id: 'data', body: ints(16, [1000, -1000, 7]) },
    ]);
    const expected = [1000, -1000, 7].map((v) => v / 32768);
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 1); // odd byte offset: samples are misaligned for Int16Array
    const views: Array<Uint8Array | ArrayBuffer | ArrayBufferView> = [
      file.slice().buffer,
      Buffer.from(file),
      new DataView(file.buffer),
      padded.subarray(1, 1 + file.length),
      new DataView(padded.buffer, 1, file.length),
    ];
    if (file.length % 2 === 0) views.push(new Int16Array(file.slice().buffer));
    for (const v of views) expect(Array.from(decodeWav(v).channels[0] as Float32Array)).toEqual(expected);
  });
});

describe('decodeWav: chunk layout', () => {
  const fmt16 = { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) };
  const data16 = { id: 'data', body: ints(16, [1, 2, 3, -4]) };
  const expected = [1, 2, 3, -4].map((v) => v / 32768);

  it('skips LIST/fact/cue/JUNK chunks with odd sizes and pad bytes before, between and after', () => {
    const file = wav([
      { id: 'JUNK', body: new Uint8Array(27) },
      list(13),
      fmt16,
      { id: 'fact', body: le(4, 4) },
      { id: 'cue ', body: cat(le(4, 1), new Uint8Array(24)) },
      list(5),
      data16,
      list(9),
      { id: 'junk', body: new Uint8Array(3) },
    ]);
    expect(Array.from(decodeWav(file).channels[0] as Float32Array)).toEqual(expected);
  });

  it('accepts data before fmt, with odd chunks in between', () => {
    const file = wav([list(7), data16, { id: 'bext', body: new Uint8Array(11) }, fmt16, list(3)]);
    const out = decodeWav(file);
    expect(out.sampleRate).toBe(16000);
    expect(Array.from(out.channels[0] as Float32Array)).toEqual(expected);
  });

  it('odd-sized 8-bit data is followed by a pad byte, and the next chunk is found', () => {
    const file = wav([
      { id: 'data', body: Uint8Array.from([1, 2, 3]) },
      list(7),
      { id: 'fmt ', body: fmtBody(1, 1, 8000, 8) },
    ]);
    expect(Array.from(decodeWav(file).channels[0] as Float32Array)).toEqual([
      -127 / 128,
      -126 / 128,
      -125 / 128,
    ]);
  });

  it('tolerates a missing final pad byte', () => {
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 8000, 8) },
      { id: 'data', body: Uint8Array.from([200, 100, 50]), pad: false },
    ]);
    expect(Array.from(decodeWav(file).channels[0] as Float32Array)).toEqual([72 / 128, -28 / 128, -78 / 128]);
    const file2 = wav([
      list(7),
      { id: 'data', body: Uint8Array.from([255]) },
      { id: 'fmt ', body: fmtBody(1, 1, 8000, 8) },
      { ...list(5), pad: false },
    ]);
    expect(Array.from(decodeWav(file2).channels[0] as Float32Array)).toEqual([127 / 128]);
  });

  it('ignores a RIFF size that disagrees with the byte length, and trailing garbage', () => {
    for (const riffSize of [0, 4, 20, 0x7fffffff, 0xffffffff]) {
      expect(Array.from(decodeWav(wav([fmt16, data16], riffSize)).channels[0] as Float32Array)).toEqual(
        expected,
      );
    }
    const trailing = cat(wav([fmt16, data16]), ascii('ID3\x03garbage!'));
    expect(Array.from(decodeWav(trailing).channels[0] as Float32Array)).toEqual(expected);
  });

  it('uses the first fmt and the first data chunk', () => {
    const file = wav([
      fmt16,
      { id: 'fmt ', body: fmtBody(1, 2, 8000, 8) },
      data16,
      { id: 'data', body: ints(16, [9, 9]) },
    ]);
    const out = decodeWav(file);
    expect(out.sampleRate).toBe(16000);
    expect(Array.from(out.channels[0] as Float32Array)).toEqual(expected);
  });

  it('a zero-length data chunk gives empty channels', () => {
    const out = decodeWav(
      wav([
        { id: 'fmt ', body: fmtBody(1, 2, 16000, 16) },
        { id: 'data', body: new Uint8Array() },
      ]),
    );
    expect(out.channels.map((c) => c.length)).toEqual([0, 0]);
  });
});

describe('decodeWav: errors', () => {
  const fmt16 = { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) };
  const data16 = { id: 'data', body: ints(16, [1, 2]) };

  it('rejects non-WAV containers and says why', () => {
    expect(codeOf(() => decodeWav(ascii('hello world, not a wav')))).toBe('WAV_INVALID');
    expect(codeOf(() => decodeWav(cat(ascii('RIFF'), le(4, 4), ascii('AVI '))))).toBe('WAV_INVALID');
    expect(codeOf(() => decodeWav(ascii('OggS')))).toBe('WAV_INVALID');
    expect(() => decodeWav(cat(ascii('RIFX'), le(4, 4), ascii('WAVE')))).toThrow(/big-endian 'RIFX'/);
    expect(codeOf(() => decodeWav(cat(ascii('RIFX'), le(4, 4), ascii('WAVE'))))).toBe('WAV_UNSUPPORTED');
    expect(codeOf(() => decodeWav(cat(ascii('RF64'), le(4, 0xffffffff), ascii('WAVE'))))).toBe(
      'WAV_UNSUPPORTED',
    );
    // Shorter than a RIFF header: truncated if it could still be one, invalid otherwise.
    expect(codeOf(() => decodeWav(new Uint8Array()))).toBe('WAV_TRUNCATED');
    expect(codeOf(() => decodeWav(ascii('RIFF\x10\x00')))).toBe('WAV_TRUNCATED');
    expect(codeOf(() => decodeWav(ascii('RIFX\x10\x00')))).toBe('WAV_UNSUPPORTED');
    expect(codeOf(() => decodeWav(ascii('MThd')))).toBe('WAV_INVALID');
  });

  it('missing chunks: invalid when the file is complete, truncated when it is cut short', () => {
    expect(() => decodeWav(wav([fmt16]))).toThrow(/no 'data' chunk/);
    expect(codeOf(() => decodeWav(wav([fmt16])))).toBe('WAV_INVALID');
    expect(codeOf(() => decodeWav(wav([data16])))).toBe('WAV_INVALID');
    expect(codeOf(() => decodeWav(wav([list(5)])))).toBe('WAV_INVALID');
    expect(codeOf(() => decodeWav(wav([fmt16], 1000)))).toBe('WAV_TRUNCATED');
    expect(codeOf(() => decodeWav(wav([fmt16, { ...list(9), size: 100 }])))).toBe('WAV_TRUNCATED');
  });

  it('a data chunk larger than the bytes present is WAV_TRUNCATED, never a short decode', () => {
    const file = wav([fmt16, { id: 'data', body: ints(16, [1, 2, 3]), size: 8 }]);
    expect(() => decodeWav(file)).toThrow(/declares 8 bytes but only 6/);
    expect(codeOf(() => decodeWav(file))).toBe('WAV_TRUNCATED');
    expect(codeOf(() => decodeWav(wav([fmt16, { id: 'data', body: ints(16, [1]), size: 0xffffffff }])))).toBe(
      'WAV_TRUNCATED',
    );
  });

  it('a partial trailing frame is WAV_TRUNCATED', () => {
    expect(codeOf(() => decodeWav(wav([fmt16, { id: 'data', body: Uint8Array.from([1, 2, 3]) }])))).toBe(
      'WAV_TRUNCATED',
    );
    const stereo24 = { id: 'fmt ', body: fmtBody(1, 2, 16000, 24) };
    expect(codeOf(() => decodeWav(wav([stereo24, { id: 'data', body: new Uint8Array(9) }])))).toBe(
      'WAV_TRUNCATED',
    );
    expect(decodeWav(wav([stereo24, { id: 'data', body: new Uint8Array(12) }])).channels[0]).toHaveLength(2);
  });

  it('validates the fmt chunk', () => {
    const withFmt = (body: Uint8Array) => codeOf(() => decodeWav(wav([{ id: 'fmt ', body }, data16])));
    expect(withFmt(fmtBody(1, 1, 16000, 16).subarray(0, 14))).toBe('WAV_INVALID');
    expect(withFmt(fmtBody(1, 0, 16000, 16, 2))).toBe('WAV_INVALID');
    expect(withFmt(fmtBody(1, 1, 0, 16))).toBe('WAV_INVALID');
    expect(withFmt(fmtBody(1, 1, 16000, 16, 4))).toBe('WAV_INVALID');
    expect(withFmt(fmtBody(1, 1, 16000, 0, 2))).toBe('WAV_INVALID');
    expect(withFmt(fmtBody(1, 1, 16000, 12, 2))).toBe('WAV_UNSUPPORTED');
    expect(withFmt(fmtBody(1, 1, 16000, 64))).toBe('WAV_UNSUPPORTED');
    expect(withFmt(fmtBody(3, 1, 16000, 16))).toBe('WAV_UNSUPPORTED');
    expect(withFmt(fmtBody(1, 300, 16000, 16))).toBe('WAV_UNSUPPORTED');
    expect(withFmt(fmtBody(2, 1, 16000, 4, 256))).toBe('WAV_UNSUPPORTED');
    expect(() => decodeWav(wav([{ id: 'fmt ', body: fmtBody(2, 1, 16000, 4, 256) }, data16]))).toThrow(
      /ADPCM/,
    );
    expect(withFmt(fmtBody(7, 1, 8000, 8))).toBe('WAV_UNSUPPORTED');
    // A truncated fmt chunk.
    expect(
      codeOf(() => decodeWav(cat(wav([]).subarray(0, 12), ascii('fmt '), le(4, 16), new Uint8Array(10)))),
    ).toBe('WAV_TRUNCATED');
  });

  it('WAVE_FORMAT_EXTENSIBLE: checks the sub-format GUID and the fmt size', () => {
    const withFmt = (body: Uint8Array) => codeOf(() => decodeWav(wav([{ id: 'fmt ', body }, data16])));
    expect(withFmt(extFmtBody(1, 1, 16000, 16))).toBe('OK');
    expect(withFmt(extFmtBody(2, 1, 16000, 16))).toBe('WAV_UNSUPPORTED'); // ADPCM sub-format
    const ambisonic = extFmtBody(1, 1, 16000, 16);
    ambisonic[24 + 4] = 0x21; // non-standard GUID with a PCM-looking first word
    expect(withFmt(ambisonic)).toBe('WAV_UNSUPPORTED');
    expect(() => decodeWav(wav([{ id: 'fmt ', body: ambisonic }, data16]))).toThrow(/sub-format GUID/);
    expect(withFmt(cat(fmtBody(0xfffe, 1, 16000, 16), le(2, 0)))).toBe('WAV_INVALID');
    expect(withFmt(extFmtBody(3, 1, 16000, 16))).toBe('WAV_UNSUPPORTED');
  });

  it('non-byte input is INVALID_ARGUMENT, including a detached buffer', () => {
    for (const bad of [null, undefined, 'RIFF', 42, [82, 73, 70, 70], { length: 12 }]) {
      expect(codeOf(() => decodeWav(bad as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    }
    const buf = wav([fmt16, data16]).buffer as ArrayBuffer;
    structuredClone(buf, { transfer: [buf as ArrayBuffer] });
    expect(codeOf(() => decodeWav(buf))).toBe('INVALID_ARGUMENT');
  });

  it('errors are WavDecodeError instances with the stable code', () => {
    try {
      decodeWav(ascii('nope'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WavDecodeError);
      expect(e).toBeInstanceOf(KwsError);
      expect((e as KwsError).code).toBe('WAV_INVALID');
    }
  });
});

describe('decodeWav: lying headers', () => {
  it('huge declared sizes neither allocate nor hang', () => {
    const fmt16 = { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) };
    const cases = [
      wav([fmt16, { id: 'data', body: new Uint8Array(4), size: 0xffffffff }]),
      wav([fmt16, { id: 'data', body: new Uint8Array(4), size: 0xfffffffe }]),
      wav([{ id: 'data', body: new Uint8Array(4), size: 0x7fffffff }, fmt16]),
      wav([{ ...list(8), size: 0xffffffff }, fmt16, { id: 'data', body: new Uint8Array(4) }]),
      wav([{ id: 'fmt ', body: fmtBody(1, 1, 16000, 16), size: 0xffffffff }]),
    ];
    const before = process.memoryUsage().arrayBuffers;
    for (const file of cases) expect(codeOf(() => decodeWav(file))).toBe('WAV_TRUNCATED');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    // A RIFF size of 4 GiB with real content decodes from the bytes present.
    expect(decodeWav(wav([fmt16, { id: 'data', body: ints(16, [5]) }], 0xffffffff)).channels[0]).toHaveLength(
      1,
    );
  });

  it('200,000 empty chunks before fmt are walked (each step advances, no recursion)', () => {
    const junk = new Uint8Array(200_000 * 8);
    for (let i = 0; i < junk.length; i += 8) junk.set(ascii('JUNK'), i);
    const file = cat(
      ascii('RIFF'),
      le(4, 4 + junk.length + 24 + 12),
      ascii('WAVE'),
      junk,
      ascii('fmt '),
      le(4, 16),
      fmtBody(1, 1, 16000, 16),
      ascii('data'),
      le(4, 4),
      ints(16, [3, -3]),
    );
    const out = decodeWav(file);
    expect(Array.from(out.channels[0] as Float32Array)).toEqual([3 / 32768, -3 / 32768]);
  });
});

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

describe('encodeWav', () => {
  it('writes a canonical 16-bit PCM header and samples', () => {
    const bytes = encodeWav(f32([0, 0.5, -1]), 16000);
    expect(bytes).toHaveLength(50);
    const dv = new DataView(bytes.buffer);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('RIFF');
    expect(dv.getUint32(4, true)).toBe(42);
    expect(String.fromCharCode(...bytes.subarray(8, 16))).toBe('WAVEfmt ');
    expect([dv.getUint32(16, true), dv.getUint16(20, true), dv.getUint16(22, true)]).toEqual([16, 1, 1]);
    expect([
      dv.getUint32(24, true),
      dv.getUint32(28, true),
      dv.getUint16(32, true),
      dv.getUint16(34, true),
    ]).toEqual([16000, 32000, 2, 16]);
    expect(String.fromCharCode(...bytes.subarray(36, 40))).toBe('data');
    expect(dv.getUint32(40, true)).toBe(6);
    expect([dv.getInt16(44, true), dv.getInt16(46, true), dv.getInt16(48, true)]).toEqual([0, 16384, -32768]);
  });

  it('16-bit: rounds to nearest on the 1/32768 grid and clips to [-1, 1]', () => {
    const bytes = encodeWav(f32([1.5, -2, 1, 0.4 / 32768, 0.6 / 32768, -0.6 / 32768, 32767.4 / 32768]), 8000);
    const dv = new DataView(bytes.buffer);
    expect(Array.from({ length: 7 }, (_, i) => dv.getInt16(44 + 2 * i, true))).toEqual([
      32767, -32768, 32767, 0, 1, -1, 32767,
    ]);
  });

  it('16-bit round trip is within 1/32768 (0.5/32768 below full scale)', () => {
    const rng = createRng(11);
    const x = Float32Array.from({ length: 20000 }, () => rng.uniform(-1, 1));
    x[0] = 1;
    x[1] = -1;
    x[2] = 32767 / 32768;
    const y = decodeWav(encodeWav(x, 16000)).channels[0] as Float32Array;
    let maxErr = 0;
    let maxErrBelowFull = 0;
    for (let i = 0; i < x.length; i++) {
      const e = Math.abs((y[i] as number) - (x[i] as number));
      maxErr = Math.max(maxErr, e);
      if ((x[i] as number) <= 32767 / 32768) maxErrBelowFull = Math.max(maxErrBelowFull, e);
    }
    expect(maxErr).toBe(1 / 32768); // reached at x = 1
    expect(maxErrBelowFull).toBeLessThanOrEqual(0.5 / 32768);
    expect(maxErrBelowFull).toBeGreaterThan(0.49 / 32768);
  });

  it('16-bit: every PCM value survives decode → encode bit-exactly', () => {
    const pcm = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
    const file = wav([
      { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) },
      { id: 'data', body: new Uint8Array(pcm.buffer) },
    ]);
    const again = encodeWav(decodeWav(file).channels, 16000);
    expect(Buffer.from(again).equals(Buffer.from(file))).toBe(true);
  });

  it('32-bit float round trip is bit-exact, writes fmt of 18 bytes and a fact chunk', () => {
    const rng = createRng(3);
    const special = [0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1.5, -7, 1e-30, 0.1];
    const left = Float32Array.from({ length: 1000 }, (_, i) => special[i] ?? rng.normal() * 10 ** rng.int(8));
    const right = Float32Array.from({ length: 1000 }, () => rng.uniform(-1, 1));
    const bytes = encodeWav([left, right], 44100, { bitDepth: 32 });
    const dv = new DataView(bytes.buffer);
    expect(bytes).toHaveLength(12 + 8 + 18 + 12 + 8 + 8000);
    expect([
      dv.getUint32(16, true),
      dv.getUint16(20, true),
      dv.getUint16(22, true),
      dv.getUint16(32, true),
    ]).toEqual([18, 3, 2, 8]);
    expect(String.fromCharCode(...bytes.subarray(38, 42))).toBe('fact');
    expect(dv.getUint32(46, true)).toBe(1000);
    const out = decodeWav(bytes);
    expect(out.sampleRate).toBe(44100);
    const asBits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
    expect(asBits(out.channels[0] as Float32Array)).toEqual(asBits(left));
    expect(asBits(out.channels[1] as Float32Array)).toEqual(asBits(right));
  });

  it('multi-channel interleaving and empty signals', () => {
    const chans = [f32([0.5, -0.5]), f32([0.25, -0.25]), f32([0.125, -0.125])];
    const bytes = encodeWav(chans, 16000);
    const dv = new DataView(bytes.buffer);
    expect(Array.from({ length: 6 }, (_, i) => dv.getInt16(44 + 2 * i, true))).toEqual([
      16384, 8192, 4096, -16384, -8192, -4096,
    ]);
    expect(decodeWav(bytes).channels.map((c) => Array.from(c))).toEqual(chans.map((c) => Array.from(c)));
    const empty = encodeWav(new Float32Array(0), 8000);
    expect(empty).toHaveLength(44);
    expect(decodeWav(empty).channels[0]).toHaveLength(0);
  });

  it('validates its arguments', () => {
    const x = f32([0.1, 0.2]);
    expect(codeOf(() => encodeWav([x, f32([0.1])], 16000))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => encodeWav(f32([0, Number.NaN]), 16000))).toBe('NON_FINITE_INPUT');
    expect(codeOf(() => encodeWav([x, f32([0, Number.POSITIVE_INFINITY])], 16000))).toBe('NON_FINITE_INPUT');
    for (const rate of [0, -16000, 16000.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, '16000']) {
      expect(codeOf(() => encodeWav(x, rate as number))).toBe('INVALID_SAMPLE_RATE');
    }
    expect(codeOf(() => encodeWav(x, 2 ** 31, { bitDepth: 32 }))).toBe('INVALID_SAMPLE_RATE');
    expect(codeOf(() => encodeWav(x, 16000, { bitDepth: 24 as 16 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encodeWav(x, 16000, 'fast' as unknown as { bitDepth: 16 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encodeWav([], 16000))).toBe('EMPTY_INPUT');
    expect(codeOf(() => encodeWav([x, [0.1, 0.2] as unknown as Float32Array], 16000))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => encodeWav([0.1, 0.2] as unknown as Float32Array, 16000))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encodeWav(null as unknown as Float32Array, 16000))).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() =>
        encodeWav(
          Array.from({ length: 257 }, () => x),
          16000,
        ),
      ),
    ).toBe('INVALID_ARGUMENT');
  });
});

// ---------------------------------------------------------------------------------------------
// toMono
// ---------------------------------------------------------------------------------------------

describe('toMono', () => {
  it('averages channels', () => {
    expect(Array.from(toMono([f32([1, 0.5, -1]), f32([0, -0.5, -0.5])]))).toEqual([0.5, 0, -0.75]);
    const three = toMono([f32([0.1]), f32([0.2]), f32([0.4])]);
    expect(three[0]).toBe(Math.fround((Math.fround(0.1) + Math.fround(0.2) + Math.fround(0.4)) / 3));
  });

  it('returns a copy of a single channel and accepts DecodedAudio', () => {
    const a = f32([0.25, -0.75]);
    const m = toMono([a]);
    expect(m).not.toBe(a);
    expect(Array.from(m)).toEqual([0.25, -0.75]);
    m[0] = 9;
    expect(a[0]).toBe(0.25);
    const decoded = decodeWav(encodeWav([f32([0.5, 0.25]), f32([-0.5, 0.75])], 16000));
    expect(Array.from(toMono(decoded))).toEqual([0, 0.5]);
  });

  it('validates its arguments', () => {
    expect(codeOf(() => toMono([]))).toBe('EMPTY_INPUT');
    expect(codeOf(() => toMono({ sampleRate: 16000, channels: [] }))).toBe('EMPTY_INPUT');
    expect(codeOf(() => toMono([f32([1, 2]), f32([1])]))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => toMono([f32([1]), 'x' as unknown as Float32Array]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => toMono(f32([1]) as unknown as Float32Array[]))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => toMono(null as unknown as Float32Array[]))).toBe('INVALID_ARGUMENT');
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: truncations and mutations
// ---------------------------------------------------------------------------------------------

function fuzzCorpus(): Array<{ name: string } & Built> {
  const rng = createRng(2024);
  const randInts = (bits: number, count: number) =>
    Array.from({ length: count }, () => {
      if (bits === 8) return rng.int(256);
      return rng.int(2 ** bits) - 2 ** (bits - 1);
    });
  const enc = encodeWav([f32([0.1, -0.2, 0.3]), f32([0.9, -0.9, 0])], 16000);
  return [
    {
      name: '16-bit mono, LIST/cue around data',
      ...build([
        list(13),
        { id: 'fmt ', body: fmtBody(1, 1, 16000, 16) },
        { id: 'data', body: ints(16, randInts(16, 9)) },
        { id: 'cue ', body: new Uint8Array(28) },
      ]),
    },
    {
      name: '8-bit mono, odd data then LIST',
      ...build([
        { id: 'fmt ', body: fmtBody(1, 1, 8000, 8) },
        { id: 'data', body: ints(8, randInts(8, 7)) },
        list(9),
      ]),
    },
    {
      name: '24-bit stereo, data before fmt',
      ...build([
        { id: 'data', body: ints(24, randInts(24, 8)) },
        list(5),
        { id: 'fmt ', body: fmtBody(1, 2, 48000, 24) },
      ]),
    },
    {
      name: 'float32 stereo with fact',
      ...build([
        { id: 'fmt ', body: cat(fmtBody(3, 2, 22050, 32), le(2, 0)) },
        { id: 'fact', body: le(4, 3) },
        { id: 'data', body: floats(32, [0.5, -0.25, 1e-3, 2, -1, 0.1]) },
      ]),
    },
    {
      name: 'extensible PCM 32-bit, 3 channels',
      ...build([
        { id: 'fmt ', body: extFmtBody(1, 3, 16000, 32, 24) },
        { id: 'JUNK', body: new Uint8Array(3) },
        { id: 'data', body: ints(32, randInts(32, 6)) },
      ]),
    },
    {
      name: 'extensible float64 mono, final odd chunk without pad',
      ...build([
        { id: 'fmt ', body: extFmtBody(3, 1, 16000, 64) },
        { id: 'data', body: floats(64, [0.1, -0.7, 0.33]) },
        { ...list(7), pad: false },
      ]),
    },
    {
      name: 'encodeWav output',
      bytes: enc,
      chunks: [
        { id: 'fmt ', at: 12, body: 20, bodyEnd: 36, next: 36 },
        { id: 'data', at: 36, body: 44, bodyEnd: 56, next: 56 },
      ],
    },
  ];
}

type Outcome = { ok: true; channels: Float32Array[]; sampleRate: number } | { ok: false; code: string };

function attempt(bytes: Uint8Array): Outcome {
  try {
    const out = decodeWav(bytes);
    return { ok: true, channels: out.channels, sampleRate: out.sampleRate };
  } catch (e) {
    if (e instanceof KwsError) return { ok: false, code: e.code };
    // Anything else (RangeError, TypeError, …) is a bug: surface it with the input.
    throw new Error(`non-KwsError ${String(e)} for input ${Buffer.from(bytes).toString('hex')}`);
  }
}

/** Decoder and reference must agree on outcome, error code, sample rate and every sample. */
function agreesWithReference(bytes: Uint8Array, got: Outcome): string | null {
  const ref = reference(bytes);
  if (!got.ok || !ref.ok) {
    const a = got.ok ? 'OK' : got.code;
    const b = ref.ok ? 'OK' : ref.code;
    return a === b ? null : `decoder ${a}, reference ${b}`;
  }
  if (got.sampleRate !== ref.sampleRate) return `sampleRate ${got.sampleRate} vs ${ref.sampleRate}`;
  const frames = ref.dataSize / ref.blockAlign;
  if (got.channels.some((c) => c.length !== frames))
    return `channel lengths ${got.channels.map((c) => c.length)} vs ${frames}`;
  return sameChannels(got.channels, ref.channels) ? null : 'samples differ';
}

describe('decodeWav: fuzzing', () => {
  const corpus = fuzzCorpus();

  it('the fuzz corpus decodes and matches the reference', () => {
    for (const file of corpus) {
      const got = attempt(file.bytes);
      expect(got.ok, file.name).toBe(true);
      expect(agreesWithReference(file.bytes, got), file.name).toBeNull();
    }
    const enc = attempt((corpus[6] as Built).bytes);
    expect(enc.ok && enc.channels.map((c) => Array.from(c, (x) => Math.round(x * 32768)))).toEqual([
      [3277, -6554, 9830],
      [29491, -29491, 0],
    ]);
  });

  it('every truncation: WAV_TRUNCATED while fmt or data is incomplete, the full decode after', () => {
    let prefixes = 0;
    for (const file of corpus) {
      const full = attempt(file.bytes);
      if (!full.ok) throw new Error(file.name);
      const fmtEnd = file.chunks.find((c) => c.id === 'fmt ')?.bodyEnd ?? 0;
      const dataEnd = file.chunks.find((c) => c.id === 'data')?.bodyEnd ?? 0;
      const required = Math.max(fmtEnd, dataEnd);
      for (let len = 0; len < file.bytes.length; len++) {
        const prefix = file.bytes.slice(0, len);
        const got = attempt(prefix);
        prefixes++;
        if (len < required) {
          expect(got.ok ? 'OK' : got.code, `${file.name}, ${len} bytes`).toBe('WAV_TRUNCATED');
        } else {
          expect(got.ok && sameChannels(got.channels, full.channels), `${file.name}, ${len} bytes`).toBe(
            true,
          );
        }
        expect(agreesWithReference(prefix, got), `${file.name}, ${len} bytes`).toBeNull();
      }
    }
    expect(prefixes).toBe(corpus.reduce((a, f) => a + f.bytes.length, 0));
  });

  it('≥ 10,000 seeded mutations: a decode agreeing with the reference, or a KwsError', () => {
    const rng = createRng(12345);
    const SIZE_VALUES = [
      0, 1, 2, 3, 4, 7, 15, 16, 17, 18, 39, 40, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
    ];
    const counts: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const failures: string[] = [];
    let benign = 0;
    let total = 0;

    const mutateOnce = (bytes: Uint8Array, chunks: Layout[], r: Rng, touched: number[] | null) => {
      const n = bytes.length;
      const kind = r.int(6);
      const k = ['byteFlip', 'bitFlip', 'headerOverwrite', 'sizeField', 'insert', 'delete'][kind] as string;
      kinds[k] = (kinds[k] ?? 0) + 1;
      if (n === 0) return { bytes, touched: null };
      if (kind <= 2) {
        const limit = kind === 2 ? Math.min(n, Math.max(12, ...chunks.map((c) => c.body))) : n;
        const pos = r.int(limit);
        const out = bytes.slice();
        out[pos] =
          kind === 0
            ? (out[pos] as number) ^ 0xff
            : kind === 1
              ? (out[pos] as number) ^ (1 << r.int(8))
              : r.int(256);
        return { bytes: out, touched: touched ? [...touched, pos] : null };
      }
      if (kind === 3) {
        const fields = [4, ...chunks.map((c) => c.at + 4)].filter((f) => f + 4 <= n);
        const field = fields[r.int(fields.length)] as number;
        const old = new DataView(bytes.buffer, bytes.byteOffset).getUint32(field, true);
        const choice = r.int(4);
        const value =
          choice === 0
            ? (SIZE_VALUES[r.int(SIZE_VALUES.length)] as number)
            : choice === 1
              ? (old + r.int(9) - 4) >>> 0
              : choice === 2
                ? r.int(2 ** 32)
                : n - field + r.int(5) - 2;
        const out = bytes.slice();
        new DataView(out.buffer).setUint32(field, value >>> 0, true);
        return { bytes: out, touched: null };
      }
      const pos = r.int(n + 1);
      const len = 1 + r.int(8);
      if (kind === 4) {
        const ins = Uint8Array.from({ length: len }, () => r.int(256));
        return { bytes: cat(bytes.subarray(0, pos), ins, bytes.subarray(pos)), touched: null };
      }
      return { bytes: cat(bytes.subarray(0, pos), bytes.subarray(Math.min(n, pos + len))), touched: null };
    };

    const t0 = performance.now();
    for (const file of corpus) {
      const original = attempt(file.bytes);
      if (!original.ok) throw new Error(file.name);
      // Bytes whose value does not matter: bodies and pad bytes of skipped chunks, never read.
      const inert = new Uint8Array(file.bytes.length);
      for (const c of file.chunks) if (c.id !== 'fmt ' && c.id !== 'data') inert.fill(1, c.body, c.next);
      for (let i = 0; i < 2000; i++) {
        const rounds = rng.next() < 0.25 ? 2 + rng.int(3) : 1;
        let m: { bytes: Uint8Array; touched: number[] | null } = { bytes: file.bytes, touched: [] };
        for (let r = 0; r < rounds; r++) m = mutateOnce(m.bytes, file.chunks, rng, m.touched);
        total++;
        let got: Outcome;
        try {
          got = attempt(m.bytes);
        } catch (e) {
          failures.push(String(e));
          continue;
        }
        const key = got.ok ? 'decoded' : got.code;
        counts[key] = (counts[key] ?? 0) + 1;
        const disagreement = agreesWithReference(m.bytes, got);
        if (disagreement)
          failures.push(`${file.name}: ${disagreement}: ${Buffer.from(m.bytes).toString('hex')}`);
        if (got.ok) {
          const lengths = new Set(got.channels.map((c) => c.length));
          if (lengths.size !== 1) failures.push(`${file.name}: unequal channel lengths`);
          const f = got.channels[0]?.length ?? 0;
          if (f * got.channels.length > m.bytes.length)
            failures.push(`${file.name}: more samples than bytes`);
        }
        // Mutations confined to never-read bytes must not change the result at all.
        if (m.touched?.every((p) => inert[p] === 1)) {
          benign++;
          if (
            !got.ok ||
            !sameChannels(got.channels, original.channels) ||
            got.sampleRate !== original.sampleRate
          ) {
            failures.push(`${file.name}: inert-byte mutation changed the decode`);
          }
        }
      }
    }
    const elapsed = performance.now() - t0;
    console.log(
      `wav fuzz: ${total} mutated files in ${elapsed.toFixed(0)} ms; outcomes ${JSON.stringify(counts)}; ` +
        `mutation kinds ${JSON.stringify(kinds)}; ${benign} touched only skipped-chunk bytes`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(10000);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(total);
    // The corpus and mutations must exercise every outcome, or the fuzzer is not testing much.
    for (const key of ['decoded', 'WAV_INVALID', 'WAV_TRUNCATED', 'WAV_UNSUPPORTED']) {
      expect(counts[key] ?? 0, key).toBeGreaterThan(100);
    }
    expect(benign).toBeGreaterThan(200);
  });
});
