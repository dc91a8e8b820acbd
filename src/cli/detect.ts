/**
 * `kws-kit detect`: streams a WAV file or standard input through {@link StreamingKWS} in
 * fixed-size chunks and reports the keyword events.
 *
 * @packageDocumentation
 */
import { type Detection, StreamingKWS, type StreamingMode } from '../streaming/index.js';
import { readAudio } from './audio-input.js';
import { modelLabels, resolveModel } from './model-arg.js';

/** Default samples per `push`: 20 ms at 16 kHz, a typical audio callback. */
export const DEFAULT_CHUNK = 320;

/** Silence appended after the input by default, in ms: half of a 1 s window. */
export const DEFAULT_TAIL_MS = 500;

/** A detection as `kws-kit detect --json` prints it. */
export interface DetectedKeyword {
  label: string;
  /** Smoothed probability that crossed the threshold, in [0, 1]. */
  score: number;
  /** Time from the start of the audio, in ms. */
  timeMs: number;
}

/** Options of {@link runDetect}. */
export interface DetectCommandOptions {
  /** WAV file path, or `-` for `stdin`. */
  input: string;
  /** Model argument (see `resolveModel`). */
  model: string;
  /** Class names in output order; default: the model's metadata. */
  labels?: readonly string[];
  /** Samples per push (at the input's rate). Default {@link DEFAULT_CHUNK}. */
  chunk?: number;
  /** StreamingKWS mode. Default `'window'`. */
  mode?: StreamingMode;
  /** Detection threshold in [0, 1]. Default StreamingKWS's (0.8). */
  threshold?: number;
  /** Labels to report. Default: all but `_silence_` / `_unknown_`. */
  keywords?: readonly string[];
  hopMs?: number;
  smoothingMs?: number;
  refractoryMs?: number;
  /** Also report `_silence_` / `_unknown_`. */
  reportFiller?: boolean;
  /**
   * Silence appended after the input, in ms, so that a word at the very end is seen by whole
   * windows (`StreamingKWS.flush`'s `padMs`). Default {@link DEFAULT_TAIL_MS}.
   */
  tailMs?: number;
  /** Headerless 16-bit PCM at this rate instead of WAV. */
  rawRate?: number;
  /** Byte source for input `-`. */
  stdin: AsyncIterable<Uint8Array | string>;
  /** Called with each detection as it happens. */
  onDetection?: (d: DetectedKeyword) => void;
  /** Receives problems that did not stop the run (e.g. a WAV shorter than its header said). */
  onWarning?: (message: string) => void;
}

/** What {@link runDetect} returns. */
export interface DetectCommandResult {
  detections: DetectedKeyword[];
  /** Input samples read (at the input's rate). */
  samples: number;
  /** Input rate in Hz (null when no audio arrived). */
  sampleRate: number | null;
}

function plain(d: Detection): DetectedKeyword {
  return { label: d.label, score: d.score, timeMs: d.timeMs };
}

/** Streams the input through a StreamingKWS built around the model; resolves with every detection. */
export async function runDetect(options: DetectCommandOptions): Promise<DetectCommandResult> {
  const resolved = await resolveModel(options.model);
  const detections: DetectedKeyword[] = [];
  let samples = 0;
  let sampleRate: number | null = null;
  try {
    const labels = modelLabels(resolved, options.labels);
    // Streaming frames are never centred: the stream has no future to pad with.
    const frontEnd = resolved.metadata?.frontEnd;
    const { center: _center, padMode: _padMode, ...streamingFrontEnd } = frontEnd ?? {};
    const kws = await StreamingKWS.create({
      model: resolved.model,
      labels,
      mode: options.mode ?? 'window',
      ...(frontEnd === undefined ? {} : { frontEnd: streamingFrontEnd }),
      ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
      ...(options.keywords === undefined ? {} : { keywords: options.keywords }),
      ...(options.hopMs === undefined ? {} : { hopMs: options.hopMs }),
      ...(options.smoothingMs === undefined ? {} : { smoothingMs: options.smoothingMs }),
      ...(options.refractoryMs === undefined ? {} : { refractoryMs: options.refractoryMs }),
      ...(options.reportFiller === undefined ? {} : { reportFiller: options.reportFiller }),
      onDetection: (d) => {
        const p = plain(d);
        detections.push(p);
        options.onDetection?.(p);
      },
    });
    try {
      const chunk = options.chunk ?? DEFAULT_CHUNK;
      const buffer = new Float32Array(chunk);
      let fill = 0;
      for await (const piece of readAudio(options.input, {
        stdin: options.stdin,
        ...(options.rawRate === undefined ? {} : { rawRate: options.rawRate }),
        ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
      })) {
        sampleRate = piece.sampleRate;
        samples += piece.samples.length;
        let at = 0;
        while (at < piece.samples.length) {
          const take = Math.min(chunk - fill, piece.samples.length - at);
          buffer.set(piece.samples.subarray(at, at + take), fill);
          fill += take;
          at += take;
          // push consumes the samples before it returns, so the buffer can be refilled at once.
          if (fill === chunk) {
            await kws.push(buffer, piece.sampleRate);
            fill = 0;
          }
        }
      }
      if (fill > 0) await kws.push(buffer.subarray(0, fill), sampleRate ?? undefined);
      await kws.flush({ padMs: options.tailMs ?? DEFAULT_TAIL_MS });
    } finally {
      kws.dispose();
    }
  } finally {
    resolved.model.dispose();
  }
  return { detections, samples, sampleRate };
}

/** One timeline line: `   1.230 s  yes        0.934`. */
export function formatDetection(d: DetectedKeyword): string {
  return `${(d.timeMs / 1000).toFixed(3).padStart(9)} s  ${d.label.padEnd(12)} ${d.score.toFixed(3)}`;
}
