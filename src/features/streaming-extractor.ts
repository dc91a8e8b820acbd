/**
 * Streaming log-mel extraction: push audio in chunks of any length, get the frames that became
 * complete. Frames are those of the offline front end with `center: false` (frame t covers
 * samples [t·hop, t·hop + nFft)), computed with the same kernel, so they are bit-identical to
 * {@link melSpectrogram} of the concatenated audio whatever the chunking.
 *
 * @packageDocumentation
 */
import { checkChoice, checkSignal } from '../validate.js';
import { type FrontEndOptions, resolveFrontEnd } from './front-end.js';
import { type MelPlan, type MelScratch, melFrame, melPlan, melScratch } from './mel-spectrogram.js';
import { logInto } from './scale.js';
import type { Spectrogram } from './types.js';

/** Options of {@link StreamingFeatureExtractor}. */
export interface StreamingFeatureOptions extends Omit<FrontEndOptions, 'center' | 'padMode'> {
  /**
   * `'log-mel'` (default): ln(mel + eps), what KWS models take. `'mel'`: mel power, equal to
   * `melSpectrogram(audio, { ...options, center: false })`.
   */
  output?: 'log-mel' | 'mel';
}

/**
 * Stateful log-mel extractor for audio arriving in chunks. Defaults are
 * {@link DEFAULT_FRONT_END} (16 kHz, 40 mels, 30 ms / 10 ms) without centring. Memory is
 * bounded: between calls it keeps fewer than `nFft` samples.
 *
 * @example
 * ```ts
 * const extractor = new StreamingFeatureExtractor();
 * const { data, frames, bins } = extractor.push(chunk); // frames may be 0
 * ```
 */
export class StreamingFeatureExtractor {
  /** Mel bands per frame. */
  readonly bins: number;
  /** Samples between frames. */
  readonly hopLength: number;
  /** Samples per frame. */
  readonly frameLength: number;
  private readonly plan: MelPlan;
  private readonly eps: number | null;
  private readonly scratch: MelScratch;
  /** Samples not yet consumed by a complete frame (at most nFft − 1 between calls). */
  private readonly pending: Float32Array;
  private pendingLength = 0;
  /** Samples still to drop before the next frame starts (only when hopLength > nFft). */
  private skip = 0;
  private emitted = 0;

  constructor(options?: StreamingFeatureOptions) {
    const { output, ...rest } = options ?? {};
    checkChoice('output', output ?? 'log-mel', ['log-mel', 'mel']);
    const config = resolveFrontEnd({ ...rest, center: false });
    this.plan = melPlan(config);
    this.eps = (output ?? 'log-mel') === 'log-mel' ? config.eps : null;
    this.bins = this.plan.filterbank.nMels;
    this.hopLength = this.plan.stft.hopLength;
    this.frameLength = this.plan.stft.nFft;
    this.scratch = melScratch(this.plan);
    this.pending = new Float32Array(this.frameLength);
  }

  /** Frames emitted since creation or the last {@link StreamingFeatureExtractor.reset}. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /**
   * Appends `chunk` (any length, including 0) and returns the frames it completed,
   * frame-major `[frames, bins]`.
   *
   * @throws KwsError `INVALID_ARGUMENT` for a non-Float32Array, `NON_FINITE_INPUT` for NaN/±Inf
   *   samples (nothing of that chunk is consumed, so the stream stays as it was).
   */
  push(chunk: Float32Array): Spectrogram {
    checkSignal('chunk', chunk, true);
    const { frameLength, hopLength, bins } = this;
    let input = chunk;
    if (this.skip > 0) {
      const dropped = Math.min(this.skip, input.length);
      input = input.subarray(dropped);
      this.skip -= dropped;
    }
    const total = this.pendingLength + input.length;
    const frames = total < frameLength ? 0 : 1 + Math.floor((total - frameLength) / hopLength);
    const data = new Float32Array(frames * bins);
    if (frames === 0) {
      this.append(input);
      return { data, frames, bins };
    }
    // Frames straddle the pending samples and the chunk: run them on one contiguous buffer.
    const work = new Float32Array(total);
    work.set(this.pending.subarray(0, this.pendingLength), 0);
    work.set(input, this.pendingLength);
    for (let t = 0; t < frames; t++) this.frameInto(work, t * hopLength, data, t * bins);
    const consumed = frames * hopLength;
    this.skip = Math.max(0, consumed - total);
    this.pendingLength = 0;
    this.append(work.subarray(Math.min(consumed, total)));
    this.emitted += frames;
    return { data, frames, bins };
  }

  /** Forgets all buffered audio; the next sample pushed is the start of a new stream. */
  reset(): void {
    this.pendingLength = 0;
    this.skip = 0;
    this.emitted = 0;
  }

  /** Keeps `samples` for the next push; by construction fewer than nFft samples are pending. */
  private append(samples: Float32Array): void {
    this.pending.set(samples, this.pendingLength);
    this.pendingLength += samples.length;
  }

  private frameInto(buffer: Float32Array, start: number, out: Float32Array, outOffset: number): void {
    melFrame(this.plan, buffer, start, out, outOffset, this.scratch);
    if (this.eps !== null) logInto(out.subarray(outOffset, outOffset + this.bins), this.eps, out, outOffset);
  }
}
