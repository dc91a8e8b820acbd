/**
 * SHA-1 (FIPS 180-4, section 6.1) in plain TypeScript.
 *
 * The data pipeline needs SHA-1 for two things that must match other tools bit for bit: the
 * Speech Commands hash split (TensorFlow's `which_set` hashes the speaker id with SHA-1) and the
 * feature-cache file names. A synchronous pure implementation keeps `whichSet` and
 * `splitPercentage` synchronous and runnable in a browser, where `node:crypto` does not exist and
 * Web Crypto's `digest` is async only. Inputs here are short (file names, cache keys, a window
 * of a few hundred floats), so speed is not a concern; security is not either (SHA-1 is used as
 * a fixed, well-known mixing function, not for integrity against an attacker).
 *
 * @internal
 * @packageDocumentation
 */

// Created on first use, so that importing this module allocates nothing.
let utf8: TextEncoder | undefined;

/** Rotates the 32-bit word `x` left by `n` bits. */
function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/**
 * The SHA-1 digest of `input` (a string is hashed as its UTF-8 bytes).
 *
 * @returns the 20-byte digest, big-endian as the standard writes it.
 */
export function sha1(input: string | Uint8Array): Uint8Array {
  utf8 ??= new TextEncoder();
  const message = typeof input === 'string' ? utf8.encode(input) : input;
  // Padding: a 1 bit, zeros, then the message length in bits as a 64-bit big-endian integer, so
  // the total is a multiple of 64 bytes.
  const blocks = Math.ceil((message.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = message.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32), false);
  view.setUint32(padded.length - 4, bits >>> 0, false);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Int32Array(80);
  for (let block = 0; block < blocks; block++) {
    const base = block * 64;
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(base + 4 * t, false);
    for (let t = 16; t < 80; t++) {
      w[t] = rotl(
        (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number),
        1,
      );
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (rotl(a, 5) + f + e + k + (w[t] as number)) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const digest = new Uint8Array(20);
  const out = new DataView(digest.buffer);
  for (const [i, h] of [h0, h1, h2, h3, h4].entries()) out.setInt32(4 * i, h, false);
  return digest;
}

/** The SHA-1 digest of `input` as 40 lower-case hex digits (see {@link sha1}). */
export function sha1Hex(input: string | Uint8Array): string {
  let hex = '';
  for (const byte of sha1(input)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
