/**
 * Incremental WAV (or headerless 16-bit PCM) decoding for audio that arrives in pieces, such as
 * `sox -d -t wav - | kws-kit detect -`: samples come out as soon as their bytes are in, without
 * waiting for the end of the stream.
 *
 * A WAV written to a pipe cannot have its sizes patched at the end, so writers put 0 or
 * 0xFFFFFFFF (or another huge value) in the `data` size: such a `data` chunk runs to the end of
 * the stream. The sample conversion is `decodeWav`'s (each run of whole frames is decoded as a
 * small WAV with the stream's own `fmt ` chunk), so a streamed file gives exactly the samples
 * `toMono(decodeWav(file))` gives.
 *
 * @packageDocumentation
 */
import { decodeWav, encodeWav, toMono, WavDecodeError } from '../features/index.js';

/** Largest header (everything before the `data` samples) accepted, in bytes. */
const MAX_HEADER_BYTES = 1 << 20;
/** `data` sizes at or above this mean "unknown" (pipe writers use 0xFFFFFFFF, 0x7FFFFFFF, …). */
const UNKNOWN_SIZE_FROM = 0x7fff0000;

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Turns a byte stream into mono float samples (channels averaged, as `toMono`).
 *
 * @example
 * ```ts
 * const decoder = new WavStreamDecoder();
 * for await (const bytes of process.stdin) {
 *   const samples = decoder.push(bytes); // may be empty
 *   if (samples.length > 0) await kws.push(samples, decoder.sampleRate ?? undefined);
 * }
 * decoder.end();
 * ```
 */
export class WavStreamDecoder {
  /** Problems that did not stop decoding (a stream shorter than its header said, a cut frame). */
  readonly warnings: string[] = [];
  private head: Uint8Array = new Uint8Array(0);
  /** The file up to the `data` samples, with a valid `fmt `: the header of every decoded run. */
  private prefix: Uint8Array | null = null;
  private blockAlign = 0;
  private rate: number | null = null;
  /** Bytes of samples still expected, or null to read to the end of the stream. */
  private remaining: number | null = null;
  private declared: number | null = null;
  private received = 0;
  private carry: Uint8Array = new Uint8Array(0);

  /**
   * @param raw - for headerless input: little-endian signed 16-bit mono PCM at this rate (Hz).
   *   Omit for WAV.
   */
  constructor(raw?: { sampleRate: number }) {
    if (raw !== undefined) {
      this.prefix = encodeWav(new Float32Array(0), raw.sampleRate);
      this.blockAlign = 2;
      this.rate = raw.sampleRate;
    }
  }

  /** Sample rate in Hz, known once the header has been read (at once for raw input). */
  get sampleRate(): number | null {
    return this.rate;
  }

  /**
   * Takes the next bytes of the stream and returns the samples they complete (possibly none).
   *
   * @throws WavDecodeError `WAV_INVALID` / `WAV_UNSUPPORTED` for a header that is not a WAV
   *   `decodeWav` reads, or `WAV_INVALID` when no `data` chunk starts in the first MiB.
   */
  push(bytes: Uint8Array): Float32Array {
    if (this.prefix === null) {
      this.head = concat(this.head, bytes);
      const start = this.parseHeader();
      if (start < 0) return new Float32Array(0);
      const rest = this.head.subarray(start);
      this.head = new Uint8Array(0);
      return this.samples(rest);
    }
    return this.samples(bytes);
  }

  /**
   * Ends the stream. Returns nothing more (a trailing partial frame is dropped with a warning).
   *
   * @throws WavDecodeError `WAV_TRUNCATED` when the stream ended inside the header.
   */
  end(): Float32Array {
    if (this.prefix === null) {
      if (this.head.length === 0)
        throw new WavDecodeError('WAV_TRUNCATED', 'the input is empty: no WAV header');
      throw new WavDecodeError(
        'WAV_TRUNCATED',
        `the input ends after ${this.head.length} bytes, before the WAV header's 'data' chunk begins`,
      );
    }
    if (this.carry.length > 0) {
      this.warnings.push(`the last ${this.carry.length} byte(s) do not make a whole sample frame; dropped`);
      this.carry = new Uint8Array(0);
    }
    if (this.declared !== null && this.remaining !== null && this.remaining > 0) {
      this.warnings.push(
        `the WAV 'data' chunk declares ${this.declared} bytes but the input ended after ${this.received}`,
      );
    }
    return new Float32Array(0);
  }

  /** Walks the chunks in `head`; returns where the samples start, or −1 if more bytes are needed. */
  private parseHeader(): number {
    const h = this.head;
    if (h.length < 12) return -1;
    const magic = fourCC(h, 0);
    if (magic === 'RF64' || magic === 'BW64') {
      throw new WavDecodeError('WAV_UNSUPPORTED', `'${magic}' (64-bit size) WAV files are not supported`);
    }
    if (magic !== 'RIFF' || fourCC(h, 8) !== 'WAVE') {
      throw new WavDecodeError(
        'WAV_INVALID',
        'the input is not a RIFF/WAVE file (for headerless 16-bit PCM use --raw --rate <Hz>)',
      );
    }
    const view = new DataView(h.buffer, h.byteOffset, h.length);
    let pos = 12;
    let fmtAt = -1;
    while (pos + 8 <= h.length) {
      const id = fourCC(h, pos);
      const size = view.getUint32(pos + 4, true);
      if (id === 'data') {
        if (fmtAt < 0) {
          throw new WavDecodeError('WAV_INVALID', "the 'data' chunk comes before the 'fmt ' chunk");
        }
        this.start(h.slice(0, pos + 8), fmtAt, size);
        return pos + 8;
      }
      if (id === 'fmt ') fmtAt = pos + 8;
      pos += 8 + size + (size % 2);
    }
    if (h.length > MAX_HEADER_BYTES) {
      throw new WavDecodeError('WAV_INVALID', `no 'data' chunk in the first ${MAX_HEADER_BYTES} bytes`);
    }
    return -1;
  }

  private start(prefix: Uint8Array, fmtAt: number, size: number): void {
    // decodeWav validates the fmt chunk (and rejects what it cannot decode) on an empty data chunk.
    new DataView(prefix.buffer).setUint32(prefix.length - 4, 0, true);
    new DataView(prefix.buffer).setUint32(4, prefix.length - 8, true);
    const decoded = decodeWav(prefix);
    this.rate = decoded.sampleRate;
    this.blockAlign = new DataView(prefix.buffer).getUint16(fmtAt + 12, true);
    this.prefix = prefix;
    if (size !== 0 && size < UNKNOWN_SIZE_FROM) {
      this.remaining = size;
      this.declared = size;
    }
  }

  private samples(bytes: Uint8Array): Float32Array {
    let data = bytes;
    if (this.remaining !== null) {
      if (data.length > this.remaining) data = data.subarray(0, this.remaining);
      this.remaining -= data.length;
    }
    this.received += data.length;
    const all = concat(this.carry, data);
    const whole = all.length - (all.length % this.blockAlign);
    this.carry = all.slice(whole);
    if (whole === 0) return new Float32Array(0);
    const prefix = this.prefix as Uint8Array;
    const file = new Uint8Array(prefix.length + whole);
    file.set(prefix);
    file.set(all.subarray(0, whole), prefix.length);
    const view = new DataView(file.buffer);
    view.setUint32(4, file.length - 8, true);
    view.setUint32(prefix.length - 4, whole, true);
    return toMono(decodeWav(file));
  }
}
