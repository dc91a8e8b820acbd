/**
 * Standard base64 (RFC 4648 §4, alphabet `A–Z a–z 0–9 + /`, `=` padding) between bytes and text,
 * in plain TypeScript: the embedded pretrained weights are decoded with it in Node and in a
 * browser alike, without `Buffer` (Node only) or `atob` (which returns a binary string, one more
 * copy and a character per byte).
 *
 * @packageDocumentation
 */
import { KwsError } from '../../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='

let decodeTable: Int16Array | null = null;

/** Character code → 6-bit value, −1 for characters outside the alphabet (built on first use). */
function table(): Int16Array {
  if (decodeTable === null) {
    decodeTable = new Int16Array(128).fill(-1);
    for (let i = 0; i < ALPHABET.length; i++) decodeTable[ALPHABET.charCodeAt(i)] = i;
  }
  return decodeTable;
}

/**
 * Encodes bytes as standard base64 text with `=` padding (4 characters per 3 bytes, rounded up).
 *
 * @param bytes Any bytes; an empty array gives `''`.
 */
export function encodeBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const parts: string[] = [];
  // Build the text in slices: one string per 3 KiB keeps the number of concatenations small.
  const chunk = 3 * 1024;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    let s = '';
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i] as number;
      const b1 = i + 1 < end ? (bytes[i + 1] as number) : 0;
      const b2 = i + 2 < end ? (bytes[i + 2] as number) : 0;
      const word = (b0 << 16) | (b1 << 8) | b2;
      s += ALPHABET[(word >> 18) & 63];
      s += ALPHABET[(word >> 12) & 63];
      s += i + 1 < end ? ALPHABET[(word >> 6) & 63] : '=';
      s += i + 2 < end ? ALPHABET[word & 63] : '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

/**
 * Decodes standard base64 text (length a multiple of 4, at most two trailing `=`) to bytes.
 *
 * @returns A fresh `Uint8Array` of `3·len/4 − padding` bytes, backed by its own `ArrayBuffer`.
 * @throws KwsError `INVALID_ARGUMENT` for a length that is not a multiple of 4, a character
 *   outside the alphabet, or misplaced padding.
 */
export function decodeBase64(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new KwsError('INVALID_ARGUMENT', `base64 input must be a string; got ${typeof text}`);
  }
  const len = text.length;
  if (len % 4 !== 0) {
    throw new KwsError('INVALID_ARGUMENT', `base64 text must have a length divisible by 4; got ${len}`);
  }
  let pad = 0;
  if (len > 0 && text.charCodeAt(len - 1) === PAD) pad = text.charCodeAt(len - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  const lookup = table();
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    let word = 0;
    for (let k = 0; k < 4; k++) {
      const c = text.charCodeAt(i + k);
      const last = i + 4 === len;
      if (c === PAD && last && k >= 4 - pad) {
        word <<= 6;
        continue;
      }
      const v = c < 128 ? (lookup[c] as number) : -1;
      if (v < 0) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `base64 text has ${c === PAD ? 'misplaced padding' : `character ${JSON.stringify(text[i + k])}`} at offset ${i + k}; allowed: A-Z a-z 0-9 + / and final = padding`,
        );
      }
      word = (word << 6) | v;
    }
    out[o++] = (word >> 16) & 255;
    if (o < out.length) out[o++] = (word >> 8) & 255;
    if (o < out.length) out[o++] = word & 255;
  }
  return out;
}
