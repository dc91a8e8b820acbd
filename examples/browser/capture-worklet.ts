/**
 * AudioWorklet that hands the microphone's first channel to the main thread as Float32Array
 * chunks of `chunkSize` samples, at the AudioContext's own rate (no resampling here: StreamingKWS
 * resamples). Blocks of 128 frames are gathered into larger chunks so that the main thread gets
 * a few dozen messages per second rather than hundreds.
 */
import { CAPTURE_PROCESSOR, type CaptureOptions } from './capture-protocol.js';

// The AudioWorkletGlobalScope is not in TypeScript's DOM lib; these are the parts used here.
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: unknown): boolean;
}
declare function registerProcessor(
  name: string,
  processor: new (...args: never[]) => AudioWorkletProcessor,
): void;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly chunkSize: number;
  private chunk: Float32Array;
  private filled = 0;

  constructor(options?: { processorOptions?: CaptureOptions }) {
    super(options);
    this.chunkSize = Math.max(128, Math.floor(options?.processorOptions?.chunkSize ?? 2048));
    this.chunk = new Float32Array(this.chunkSize);
  }

  process(inputs: Float32Array[][]): boolean {
    // No input connected yet (or the track ended): keep the node alive.
    const samples = inputs[0]?.[0];
    if (samples === undefined) return true;
    let offset = 0;
    while (offset < samples.length) {
      const n = Math.min(samples.length - offset, this.chunkSize - this.filled);
      this.chunk.set(samples.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.chunkSize) {
        // Transferring the buffer avoids a copy; it detaches `chunk` (length 0), so a fresh
        // one of `chunkSize` takes its place.
        this.port.postMessage(this.chunk, [this.chunk.buffer]);
        this.chunk = new Float32Array(this.chunkSize);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
