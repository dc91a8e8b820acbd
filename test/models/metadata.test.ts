import { describe, expect, it } from 'vitest';
import { DEFAULT_FRONT_END } from '../../src/features/index.js';
import { kwsMetadata, readKwsMetadata } from '../../src/models/metadata.js';

describe('kws-kit model metadata', () => {
  it('round-trips labels and the full front end through JSON', () => {
    const meta = kwsMetadata(['yes', 'no', '_unknown_'], { nMels: 64 }, { accuracy: 0.9 });
    const back = readKwsMetadata(JSON.parse(JSON.stringify(meta)));
    expect(back?.labels).toEqual(['yes', 'no', '_unknown_']);
    expect(back?.frontEnd).toEqual({ ...DEFAULT_FRONT_END, nMels: 64 });
    expect(back?.info).toEqual({ accuracy: 0.9 });
  });

  it('is null for models without a kws-kit record', () => {
    expect(readKwsMetadata(undefined)).toBeNull();
    expect(readKwsMetadata({ other: 1 })).toBeNull();
  });

  it('rejects malformed records as MODEL_FILE_CORRUPT and bad arguments as INVALID_ARGUMENT', () => {
    for (const bad of [
      { kwsKit: 5 },
      { kwsKit: { version: 2, labels: ['a', 'b'] } },
      { kwsKit: { version: 1, labels: ['a'] } },
      { kwsKit: { version: 1, labels: ['a', 'a'] } },
      { kwsKit: { version: 1, labels: ['a', 'b'], frontEnd: { nMels: -1 } } },
    ]) {
      expect(() => readKwsMetadata(bad)).toThrowError(
        expect.objectContaining({ code: 'MODEL_FILE_CORRUPT' }),
      );
    }
    expect(() => kwsMetadata(['only'])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => kwsMetadata(['a', 'b'], { sampleRate: 0 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_SAMPLE_RATE' }),
    );
  });
});
