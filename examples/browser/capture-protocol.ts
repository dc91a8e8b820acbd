/** What the main thread and the capture worklet agree on. */

/** Name the worklet registers its processor under. */
export const CAPTURE_PROCESSOR = 'kws-capture';

/** `processorOptions` of the capture worklet. */
export interface CaptureOptions {
  /** Samples per posted chunk. Default 2048 (43 ms at 48 kHz). */
  chunkSize?: number;
}
