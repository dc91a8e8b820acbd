import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha1, sha1Hex } from '../../src/data/sha1.js';
import { createRng } from '../../src/random.js';

describe('sha1', () => {
  it('gives the FIPS 180 example digests', () => {
    expect(sha1Hex('')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(sha1Hex('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
    expect(sha1Hex('a'.repeat(1_000_000))).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  });

  it('matches node:crypto on random bytes of every length across the padding boundaries', () => {
    const rng = createRng(7);
    for (let n = 0; n <= 200; n++) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
      const expected = createHash('sha1').update(bytes).digest();
      expect(Array.from(sha1(bytes)), `length ${n}`).toEqual(Array.from(expected));
    }
  });

  it('hashes strings as UTF-8', () => {
    for (const s of ['c50f55b8', 'ünïcödé_nohash_0.wav', '日本語', '😀']) {
      expect(sha1Hex(s)).toBe(createHash('sha1').update(s, 'utf8').digest('hex'));
    }
  });
});
