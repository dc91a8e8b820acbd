/**
 * Reading and writing RIFF/WAVE files, and down-mixing to mono.
 *
 * {@link decodeWav} reads linear PCM (8/16/24/32-bit) and IEEE float (32/64-bit) files, plain or
 * `WAVE_FORMAT_EXTENSIBLE`, into one `Float32Array` per channel. It is written for untrusted
 * input: every length is derived from the bytes actually present, so a lying header can neither
 * make it allocate more than a few times the input size nor loop, and every problem surfaces as a
 * {@link WavDecodeError} (`WAV_INVALID`, `WAV_TRUNCATED` or `WAV_UNSUPPORTED`).
 *
 * {@link encodeWav} writes 16-bit PCM or 32-bit float files that {@link decodeWav} (and any other
 * WAV reader) reads back.
 *
 * Reference: Microsoft/IBM "Multimedia Programming Interface and Data Specifications 1.0" (1991)
 * for RIFF and `fmt `/`data`, and Microsoft's "Multiple channel audio data and WAVE files" for
 * `WAVE_FORMAT_EXTENSIBLE`.
 *
 * @packageDocumentation
 */
import { KwsError, WavDecodeError } from '../errors.js';
import { checkChoice, checkFinite, checkOptions, checkSampleRate } from '../validate.js';

/** Audio decoded by {@link decodeWav}. */
export interface DecodedAudio {
  /** Samples per second per channel, in Hz, as stored in the file (a positive integer). */
  sampleRate: number;
  /**
   * One array per channel (in file order, e.g. left then right), all the same length (the number
   * of frames). PCM samples lie in [-1, 1); float samples are passed through unchanged (rounded
   * to float32) and so may lie outside [-1, 1] or be non-finite if the file holds such values.
   */
  channels: Float32Array[];
}

/** Options of {@link encodeWav}. */
export interface EncodeWavOptions {
  /**
   * Sample format: `16` writes 16-bit linear PCM (samples clipped to [-1, 1]), `32` writes 32-bit
   * IEEE float (bit-exact). Default `16`.
   */
  bitDepth?: 16 | 32;
}

/** Most channels {@link decodeWav} and {@link encodeWav} accept. */
export const MAX_WAV_CHANNELS = 256;

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Names of common encodings we do not decode, so the error can say what the file is. */
const KNOWN_FORMATS: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'µ-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG',
  85: 'MPEG Layer 3',
};

/**
 * Bytes 4..15 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag
 * (`XXXXXXXX-0000-0010-8000-00AA00389B71`); bytes 0..3 hold the tag, little-endian.
 */
const GUID_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** The largest float32 below 1, so 32-bit PCM near full scale stays inside [-1, 1). */
const BELOW_ONE = 1 - 2 ** -24;

interface WavFormat {
  /** 1 (integer PCM) or 3 (IEEE float), after resolving WAVE_FORMAT_EXTENSIBLE. */
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function toBytes(input: unknown): Uint8Array {
  try {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (typeof SharedArrayBuffer !== 'undefined' && input instanceof SharedArrayBuffer) {
      return new Uint8Array(input);
    }
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  } catch {
    // A detached buffer makes the Uint8Array constructor throw a TypeError; report it as bad input.
    throw new KwsError(
      'INVALID_ARGUMENT',
      'bytes cannot be read (is its ArrayBuffer detached?); pass live WAV bytes',
    );
  }
  const got = input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
  throw new KwsError(
    'INVALID_ARGUMENT',
    `bytes must be a Uint8Array, ArrayBuffer or other ArrayBufferView holding a WAV file; got ${got}`,
  );
}

function fourCC(u8: Uint8Array, at: number): string {
  let s = '';
  for (let i = at; i < at + 4 && i < u8.length; i++) {
    const c = u8[i] as number;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** True when the first `u8.length` (< 12) bytes agree with `RIFF????WAVE`. */
function isRiffWavePrefix(u8: Uint8Array): boolean {
  const expect = 'RIFF????WAVE';
  for (let i = 0; i < u8.length && i < 12; i++) {
    const e = expect.charCodeAt(i);
    if (e !== 0x3f && u8[i] !== e) return false;
  }
  return true;
}

function parseFmt(view: DataView, u8: Uint8Array, at: number, size: number): WavFormat {
  if (size < 16) {
    throw new WavDecodeError(
      'WAV_INVALID',
      `the 'fmt ' chunk is ${size} bytes long; at least 16 are required`,
    );
  }
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  // The byte rate (at + 8) is redundant and often wrong in real files, so it is ignored.
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);

  if (tag === FORMAT_EXTENSIBLE) {
    if (size < 40) {
      throw new WavDecodeError(
        'WAV_INVALID',
        `a WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk must be at least 40 bytes long; got ${size}`,
      );
    }
    // The valid-bits field (at + 18) is not needed: samples are left-justified in their container,
    // so scaling by the container width gives the right amplitude.
    const guid = at + 24;
    let standard = true;
    for (let i = 0; i < 12; i++) if (u8[guid + 4 + i] !== GUID_TAIL[i]) standard = false;
    const subTag = view.getUint32(guid, true);
    if (!standard || (subTag !== FORMAT_PCM && subTag !== FORMAT_IEEE_FLOAT)) {
      const hex = Array.from(u8.subarray(guid, guid + 16), (b) => b.toString(16).padStart(2, '0')).join('');
      throw new WavDecodeError(
        'WAV_UNSUPPORTED',
        `WAVE_FORMAT_EXTENSIBLE sub-format GUID ${hex} is not supported; only PCM and IEEE float are decoded`,
      );
    }
    tag = subTag;
  }

  if (tag !== FORMAT_PCM && tag !== FORMAT_IEEE_FLOAT) {
    const name = KNOWN_FORMATS[tag];
    throw new WavDecodeError(
      'WAV_UNSUPPORTED',
      `WAV format tag 0x${tag.toString(16).padStart(4, '0')}${name ? ` (${name})` : ''} is not supported; ` +
        'only PCM (1), IEEE float (3) and WAVE_FORMAT_EXTENSIBLE with those sub-formats are decoded',
    );
  }
  if (channels === 0) throw new WavDecodeError('WAV_INVALID', "the 'fmt ' chunk declares 0 channels");
  if (channels > MAX_WAV_CHANNELS) {
    throw new WavDecodeError(
      'WAV_UNSUPPORTED',
      `the file has ${channels} channels; at most ${MAX_WAV_CHANNELS} are supported`,
    );
  }
  if (sampleRate === 0)
    throw new WavDecodeError('WAV_INVALID', "the 'fmt ' chunk declares a sample rate of 0 Hz");
  if (bitsPerSample === 0)
    throw new WavDecodeError('WAV_INVALID', "the 'fmt ' chunk declares 0 bits per sample");
  const allowed = tag === FORMAT_PCM ? [8, 16, 24, 32] : [32, 64];
  if (!allowed.includes(bitsPerSample)) {
    throw new WavDecodeError(
      'WAV_UNSUPPORTED',
      `${bitsPerSample}-bit ${tag === FORMAT_PCM ? 'PCM' : 'IEEE float'} is not supported; ` +
        `bits per sample must be one of ${allowed.join(', ')}`,
    );
  }
  const expected = channels * (bitsPerSample / 8);
  if (blockAlign !== expected) {
    throw new WavDecodeError(
      'WAV_INVALID',
      `block align is ${blockAlign} bytes but ${channels} channel(s) of ${bitsPerSample}-bit samples ` +
        `need ${expected}`,
    );
  }
  return { tag, channels, sampleRate, blockAlign, bitsPerSample };
}

// One loop per sample format, walking one channel at a time so each inner loop is monomorphic
// and strides by `blockAlign`; DataView reads with constant endianness compile to plain loads.

function readU8(u8: Uint8Array, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) out[i] = ((u8[p] as number) - 128) * (1 / 128);
}

function readI16(view: DataView, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) out[i] = view.getInt16(p, true) * (1 / 32768);
}

function readI24(u8: Uint8Array, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) {
    // Place the 3 bytes in the top of an int32 and shift back down to sign-extend.
    const v = (((u8[p] as number) << 8) | ((u8[p + 1] as number) << 16) | ((u8[p + 2] as number) << 24)) >> 8;
    out[i] = v * (1 / 8388608);
  }
}

function readI32(view: DataView, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) {
    // Values within 2^-25 of full scale would round up to 1.0 in float32.
    out[i] = Math.min(view.getInt32(p, true) * (1 / 2147483648), BELOW_ONE);
  }
}

function readF32(view: DataView, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) out[i] = view.getFloat32(p, true);
}

function readF64(view: DataView, p: number, stride: number, out: Float32Array): void {
  for (let i = 0; i < out.length; i++, p += stride) out[i] = view.getFloat64(p, true);
}

/**
 * Decodes a RIFF/WAVE file into per-channel float samples.
 *
 * Supported encodings: linear PCM with 8 (unsigned, offset 128), 16, 24 or 32 bits per sample,
 * scaled to [-1, 1) by dividing by 2^(bits−1) (32-bit values that would round to 1.0 in float32
 * are clamped to the largest float32 below 1); IEEE float with 32 or 64 bits, passed through and
 * rounded to float32 (64-bit values beyond the float32 range become ±Infinity). Both may also be
 * wrapped in `WAVE_FORMAT_EXTENSIBLE` with the PCM or IEEE-float sub-format GUID; the
 * valid-bits and channel-mask fields are ignored.
 *
 * Parsing rules:
 * - Chunks may appear in any order, including `data` before `fmt `; unknown chunks (`LIST`,
 *   `fact`, `cue `, `JUNK`, …) are skipped, honouring the pad byte after odd-sized chunks. A
 *   missing pad byte at the very end of the file is tolerated.
 * - The first `fmt ` and the first `data` chunk are used; parsing stops once both are found, so
 *   anything after them (later chunks, trailing garbage) is ignored.
 * - The RIFF size field is not trusted: the actual byte length decides where the file ends. It
 *   is only consulted to tell a truncated file from one that lacks a chunk.
 * - A `data` (or `fmt `) chunk whose declared size exceeds the bytes present, or whose size is
 *   not a whole number of frames, is rejected with `WAV_TRUNCATED`: a decoder that silently
 *   returns fewer samples than declared hides damaged files.
 * - The byte-rate field is ignored; block align must equal channels × bytes per sample.
 *
 * Cost: one pass over the samples (about 60 µs per second of 16 kHz 16-bit mono audio on Node 20);
 * memory is the output arrays, at most 4× the input size.
 *
 * @param bytes - the whole file: a `Uint8Array` (e.g. a Node `Buffer`), an `ArrayBuffer`, or any
 *   other `ArrayBufferView` (its bytes are read, not its elements).
 * @returns the sample rate in Hz and one `Float32Array` per channel, all of equal length.
 * @throws {@link KwsError} `INVALID_ARGUMENT` when `bytes` is not a byte container.
 * @throws {@link WavDecodeError} `WAV_INVALID` (not RIFF/WAVE, missing `fmt `/`data` chunk,
 *   inconsistent `fmt `), `WAV_TRUNCATED` (the file ends before its header or declared data end)
 *   or `WAV_UNSUPPORTED` (another encoding or bit depth, big-endian `RIFX`, `RF64`, more than
 *   {@link MAX_WAV_CHANNELS} channels).
 */
export function decodeWav(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): DecodedAudio {
  const u8 = toBytes(bytes);
  const n = u8.length;
  const view = new DataView(u8.buffer, u8.byteOffset, n);

  if (n < 12) {
    if (isRiffWavePrefix(u8)) {
      throw new WavDecodeError(
        'WAV_TRUNCATED',
        `the input is ${n} bytes long; a WAV header needs at least 12`,
      );
    }
  }
  const magic = fourCC(u8, 0);
  if (magic === 'RIFX') {
    throw new WavDecodeError('WAV_UNSUPPORTED', "big-endian 'RIFX' WAV files are not supported");
  }
  if (magic === 'RF64' || magic === 'BW64') {
    throw new WavDecodeError('WAV_UNSUPPORTED', `'${magic}' (64-bit size) WAV files are not supported`);
  }
  if (magic !== 'RIFF' || n < 12 || fourCC(u8, 8) !== 'WAVE') {
    throw new WavDecodeError(
      'WAV_INVALID',
      `not a WAV file: expected 'RIFF' and 'WAVE' at bytes 0 and 8; got '${magic}' and '${fourCC(u8, 8)}'`,
    );
  }
  const riffEnd = 8 + view.getUint32(4, true);

  let fmt: WavFormat | null = null;
  let dataStart = -1;
  let dataSize = 0;
  let ranOut = '';
  // `pos` grows by at least 8 per iteration and sizes are at most 2^32, so doubles never overflow
  // and the loop ends after at most n / 8 chunks.
  let pos = 12;
  while (pos < n) {
    if (n - pos < 8) {
      ranOut = `the file ends inside a chunk header at byte ${pos}`;
      break;
    }
    const id = fourCC(u8, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const bodyEnd = body + size;
    if (id === 'fmt ' && fmt === null) {
      if (bodyEnd > n) {
        throw new WavDecodeError(
          'WAV_TRUNCATED',
          `the 'fmt ' chunk declares ${size} bytes but only ${n - body} are present`,
        );
      }
      fmt = parseFmt(view, u8, body, size);
    } else if (id === 'data' && dataStart < 0) {
      if (bodyEnd > n) {
        throw new WavDecodeError(
          'WAV_TRUNCATED',
          `the 'data' chunk declares ${size} bytes but only ${n - body} are present`,
        );
      }
      dataStart = body;
      dataSize = size;
    } else if (bodyEnd > n) {
      ranOut = `the file ends inside chunk '${id}' (${size} bytes declared, ${n - body} present)`;
      break;
    }
    if (fmt !== null && dataStart >= 0) break;
    pos = bodyEnd + (size % 2);
  }

  if (fmt === null || dataStart < 0) {
    const missing =
      fmt === null ? (dataStart < 0 ? "'fmt ' and 'data' chunks" : "'fmt ' chunk") : "'data' chunk";
    if (ranOut !== '' || riffEnd > n) {
      throw new WavDecodeError(
        'WAV_TRUNCATED',
        `no ${missing} found: ${ranOut || `the RIFF header declares ${riffEnd} bytes but only ${n} are present`}`,
      );
    }
    throw new WavDecodeError('WAV_INVALID', `no ${missing} found in the file`);
  }

  const { channels: nch, blockAlign, bitsPerSample, tag } = fmt;
  if (dataSize % blockAlign !== 0) {
    throw new WavDecodeError(
      'WAV_TRUNCATED',
      `the 'data' chunk holds ${dataSize} bytes, not a whole number of ${blockAlign}-byte frames`,
    );
  }
  const frames = dataSize / blockAlign;
  const bps = bitsPerSample / 8;
  const channels: Float32Array[] = [];
  for (let c = 0; c < nch; c++) {
    const out = new Float32Array(frames);
    const p = dataStart + c * bps;
    if (tag === FORMAT_IEEE_FLOAT) {
      if (bitsPerSample === 32) readF32(view, p, blockAlign, out);
      else readF64(view, p, blockAlign, out);
    } else if (bitsPerSample === 8) readU8(u8, p, blockAlign, out);
    else if (bitsPerSample === 16) readI16(view, p, blockAlign, out);
    else if (bitsPerSample === 24) readI24(u8, p, blockAlign, out);
    else readI32(view, p, blockAlign, out);
    channels.push(out);
  }
  return { sampleRate: fmt.sampleRate, channels };
}

function checkChannelList(name: string, value: unknown): Float32Array[] {
  const list = value instanceof Float32Array ? [value] : value;
  if (!Array.isArray(list)) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `${name} must be a Float32Array or an array of Float32Array channels; got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (list.length === 0) throw new KwsError('EMPTY_INPUT', `${name} has no channels; at least one is needed`);
  const first = list[0];
  for (let c = 0; c < list.length; c++) {
    const ch = list[c];
    if (!(ch instanceof Float32Array)) {
      throw new KwsError('INVALID_ARGUMENT', `${name}[${c}] must be a Float32Array; got ${typeof ch}`);
    }
    if (first instanceof Float32Array && ch.length !== first.length) {
      throw new KwsError(
        'SHAPE_MISMATCH',
        `all channels must have the same length; ${name}[0] has ${first.length} samples, ${name}[${c}] has ${ch.length}`,
      );
    }
  }
  return list as Float32Array[];
}

/**
 * Encodes float samples as a canonical 44-byte-header RIFF/WAVE file (plus an 18-byte `fmt ` and
 * a `fact` chunk for float, as the format requires for non-PCM data).
 *
 * - `bitDepth: 16` (default): linear PCM, `v = clamp(round(x · 32768), −32768, 32767)`. The scale
 *   32768 is the exact inverse of {@link decodeWav}'s, so decode(encode(x)) differs from x by at
 *   most 0.5/32768 inside [−1, 32767/32768], by at most 1/32768 up to 1, and 16-bit values
 *   survive decode→encode bit-exactly. Values outside [−1, 1] are clipped.
 * - `bitDepth: 32`: IEEE float (format tag 3); decode(encode(x)) === x bit for bit, no clipping.
 *
 * Channels are interleaved frame by frame. Files with more than two channels are written with
 * the plain format tag (no channel mask).
 *
 * @param samples - one channel as a `Float32Array`, or an array of channels of equal length
 *   (1 to {@link MAX_WAV_CHANNELS}); all values must be finite. An empty signal gives a valid
 *   file with no frames.
 * @param sampleRate - samples per second, a positive integer in Hz.
 * @param options - see {@link EncodeWavOptions}.
 * @returns the file bytes.
 * @throws {@link KwsError} `INVALID_ARGUMENT`, `EMPTY_INPUT` (no channels), `SHAPE_MISMATCH`
 *   (channels of different lengths), `NON_FINITE_INPUT`, `INVALID_SAMPLE_RATE`.
 */
export function encodeWav(
  samples: Float32Array | Float32Array[],
  sampleRate: number,
  options?: EncodeWavOptions,
): Uint8Array {
  const channels = checkChannelList('samples', samples);
  if (channels.length > MAX_WAV_CHANNELS) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `samples has ${channels.length} channels; at most ${MAX_WAV_CHANNELS} are supported`,
    );
  }
  for (let c = 0; c < channels.length; c++) checkFinite(`samples[${c}]`, channels[c] as Float32Array);
  checkSampleRate('sampleRate', sampleRate);
  if (!Number.isInteger(sampleRate) || sampleRate > 0xffffffff) {
    throw new KwsError(
      'INVALID_SAMPLE_RATE',
      `sampleRate must be a whole number of Hz that fits in 32 bits; got ${sampleRate}`,
    );
  }
  const opts = checkOptions('options', options);
  const bitDepth = checkChoice('options.bitDepth', opts.bitDepth ?? 16, [16, 32] as const);

  const nch = channels.length;
  const frames = (channels[0] as Float32Array).length;
  const isFloat = bitDepth === 32;
  const bps = bitDepth / 8;
  const blockAlign = nch * bps;
  const byteRate = sampleRate * blockAlign;
  if (byteRate > 0xffffffff) {
    throw new KwsError(
      'INVALID_SAMPLE_RATE',
      `sampleRate ${sampleRate} × ${blockAlign} bytes per frame overflows the 32-bit byte-rate field`,
    );
  }
  const fmtSize = isFloat ? 18 : 16;
  const factSize = isFloat ? 12 : 0;
  const dataSize = frames * blockAlign;
  const headerSize = 12 + 8 + fmtSize + factSize + 8;
  if (headerSize - 8 + dataSize > 0xffffffff) {
    throw new KwsError('INVALID_ARGUMENT', `${dataSize} bytes of audio exceed the 4 GiB limit of a WAV file`);
  }

  const out = new Uint8Array(headerSize + dataSize);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, isFloat ? FORMAT_IEEE_FLOAT : FORMAT_PCM, true);
  view.setUint16(22, nch, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, byteRate, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bitDepth, true);
  let p = 20 + fmtSize; // cbSize (float only) is already 0
  if (isFloat) {
    ascii(p, 'fact');
    view.setUint32(p + 4, 4, true);
    view.setUint32(p + 8, frames, true);
    p += 12;
  }
  ascii(p, 'data');
  view.setUint32(p + 4, dataSize, true);
  p += 8;

  for (let c = 0; c < nch; c++) {
    const ch = channels[c] as Float32Array;
    let q = p + c * bps;
    if (isFloat) {
      for (let i = 0; i < frames; i++, q += blockAlign) view.setFloat32(q, ch[i] as number, true);
    } else {
      for (let i = 0; i < frames; i++, q += blockAlign) {
        const v = Math.round((ch[i] as number) * 32768);
        view.setInt16(q, Math.min(32767, Math.max(-32768, v)), true);
      }
    }
  }
  return out;
}

/**
 * Down-mixes channels to one by averaging them: `mono[i] = (Σ_c channels[c][i]) / C`, summed in
 * double precision. A single channel is returned as a copy.
 *
 * @param channels - an array of equal-length `Float32Array` channels, or a {@link DecodedAudio}.
 * @returns a new `Float32Array` as long as each channel.
 * @throws {@link KwsError} `EMPTY_INPUT` (no channels), `SHAPE_MISMATCH` (lengths differ),
 *   `INVALID_ARGUMENT` (not arrays of `Float32Array`).
 */
export function toMono(channels: Float32Array[] | DecodedAudio): Float32Array {
  const input =
    channels !== null && typeof channels === 'object' && !Array.isArray(channels) && 'channels' in channels
      ? channels.channels
      : channels;
  if (input instanceof Float32Array) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'channels must be an array of Float32Array channels (wrap a single channel as [signal])',
    );
  }
  const list = checkChannelList('channels', input);
  const nch = list.length;
  const first = list[0] as Float32Array;
  if (nch === 1) return first.slice();
  const out = new Float32Array(first.length);
  const acc = new Float64Array(first.length);
  for (const ch of list) for (let i = 0; i < ch.length; i++) acc[i] = (acc[i] as number) + (ch[i] as number);
  for (let i = 0; i < out.length; i++) out[i] = (acc[i] as number) / nch;
  return out;
}
