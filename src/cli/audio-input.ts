/**
 * Audio for `kws-kit detect`: a WAV file, or `-` for standard input (WAV, or headerless 16-bit
 * PCM with `--raw`), decoded piece by piece as the bytes arrive.
 *
 * @packageDocumentation
 */
import { createReadStream, statSync } from 'node:fs';
import { KwsError } from '../errors.js';
import { WavStreamDecoder } from './wav-stream.js';

/** Mono samples and their rate. */
export interface AudioPiece {
  samples: Float32Array;
  /** Hz. */
  sampleRate: number;
}

/** Options of {@link readAudio}. */
export interface ReadAudioOptions {
  /** Headerless little-endian signed 16-bit mono PCM at this rate (Hz) instead of WAV. */
  rawRate?: number;
  /** Standard input, read when the input is `-`. */
  stdin: AsyncIterable<Uint8Array | string>;
  /** Receives problems that did not stop decoding. */
  onWarning?: (message: string) => void;
}

function bytesOf(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
}

/** Opens a file for streaming, with `NOT_FOUND` for what is not a readable file. */
function openFile(path: string): AsyncIterable<Uint8Array> {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new KwsError('NOT_FOUND', `audio file ${path} does not exist (use - to read standard input)`);
  }
  if (!isFile) throw new KwsError('NOT_FOUND', `${path} is not a file; expected a WAV file or -`);
  return createReadStream(path, { highWaterMark: 1 << 16 });
}

/**
 * Yields the audio of `input` (a path, or `-` for `options.stdin`) in pieces as it is read.
 *
 * @throws KwsError `NOT_FOUND` for a missing file; `WavDecodeError` for input that is not a WAV
 *   `decodeWav` reads (or ends inside its header).
 */
export async function* readAudio(input: string, options: ReadAudioOptions): AsyncGenerator<AudioPiece> {
  const source = input === '-' ? options.stdin : openFile(input);
  const decoder = new WavStreamDecoder(
    options.rawRate === undefined ? undefined : { sampleRate: options.rawRate },
  );
  for await (const chunk of source) {
    const samples = decoder.push(bytesOf(chunk));
    if (samples.length > 0) yield { samples, sampleRate: decoder.sampleRate as number };
  }
  decoder.end();
  for (const w of decoder.warnings) options.onWarning?.(w);
}
