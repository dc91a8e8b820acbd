import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { splitKey, splitPercentage, whichSet } from '../../src/data/index.js';
import { KwsError } from '../../src/errors.js';

// Reference values from Python 3 with TensorFlow's formula:
//   h = hashlib.sha1(key.encode()).hexdigest()
//   p = (int(h, 16) % (2**27 - 1 + 1)) * (100.0 / (2**27 - 1))
const REFERENCE = [
  {
    key: '00007abc',
    sha1: '3280cf631cef965dfe6a7f07bdb4beae18380b20',
    p: 2.736496945742495,
    set: 'validation',
  },
  { key: '00003abc', sha1: '650eb7d8777fac0f54d50a78f80fd081f962fd22', p: 17.33343763152836, set: 'test' },
  { key: '00000abc', sha1: 'f62bfbc1b0cbeae1a8c87a6e6111fd7a19eae242', p: 23.968936681515995, set: 'train' },
  { key: 'c50f55b8', sha1: '33ed9ef876233b86e5cb79b56cf973fb9be0cd8f', p: 48.47670755145481, set: 'train' },
] as const;

describe('splitKey', () => {
  it('strips the folder and everything from _nohash_ on', () => {
    expect(splitKey('yes/c50f55b8_nohash_1.wav')).toBe('c50f55b8');
    expect(splitKey('C:\\data\\no\\c50f55b8_nohash_0.wav')).toBe('c50f55b8');
    expect(splitKey('_silence_/3.wav')).toBe('3.wav');
    expect(() => splitKey('' as string)).toThrow(KwsError);
  });
});

describe('whichSet (TensorFlow which_set)', () => {
  it('matches SHA-1 values and percentages computed in Python', () => {
    for (const r of REFERENCE) {
      expect(createHash('sha1').update(r.key).digest('hex')).toBe(r.sha1);
      // The low 27 bits of the digest are its last 7 hex digits masked to 27 bits.
      const low = Number.parseInt(r.sha1.slice(-7), 16) & (2 ** 27 - 1);
      expect(low * (100 / (2 ** 27 - 1))).toBe(r.p);
      expect(splitPercentage(`yes/${r.key}_nohash_0.wav`)).toBe(r.p);
      expect(whichSet(`yes/${r.key}_nohash_0.wav`)).toBe(r.set);
    }
  });

  it('puts every clip of a speaker in the same split, whatever the word or clip number', () => {
    for (const r of REFERENCE) {
      const sets = new Set(
        ['yes', 'no', 'marvin'].flatMap((w) =>
          [0, 1, 7].map((n) => whichSet(`${w}/${r.key}_nohash_${n}.wav`)),
        ),
      );
      expect([...sets]).toEqual([r.set]);
    }
  });

  it('honours the percentages and their bounds', () => {
    const name = 'go/00003abc_nohash_0.wav'; // p ≈ 17.33
    expect(whichSet(name, { validationPercentage: 20 })).toBe('validation');
    expect(whichSet(name, { validationPercentage: 5, testingPercentage: 12.3 })).toBe('train');
    expect(whichSet(name, { validationPercentage: 5, testingPercentage: 12.4 })).toBe('test');
    expect(whichSet(name, { validationPercentage: 0, testingPercentage: 0 })).toBe('train');
    expect(() => whichSet(name, { validationPercentage: 60, testingPercentage: 50 })).toThrow(/<= 100/);
    expect(() => whichSet(name, { validationPercentage: -1 })).toThrow(KwsError);
  });

  it('splits many speakers in roughly the 80/10/10 proportions', () => {
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 2000; i++) counts[whichSet(`x/${i.toString(16).padStart(8, '0')}_nohash_0.wav`)]++;
    expect(counts.validation).toBeGreaterThan(150);
    expect(counts.validation).toBeLessThan(250);
    expect(counts.test).toBeGreaterThan(150);
    expect(counts.test).toBeLessThan(250);
  });
});
