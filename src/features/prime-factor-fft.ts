/**
 * The 240-point complex FFT behind the 480-sample real FFT of the default front end (30 ms at
 * 16 kHz, see `RealFft`), as a Good–Thomas prime-factor algorithm. Because 240 = 16 · 15
 * with gcd(16, 15) = 1, the index maps
 *
 *   n = (15·n1 + 16·n2) mod 240,   k = (225·k1 + 16·k2) mod 240  (k ≡ k1 mod 16, k ≡ k2 mod 15)
 *
 * turn W240^(n·k) into W16^(n1·k1) · W15^(n2·k2), so
 *
 *   X[k] = Σ_{n2<15} W15^(n2·k2) · Σ_{n1<16} W16^(n1·k1) · x[n]
 *
 * is 15 DFTs of length 16 followed by 16 DFTs of length 15 with no twiddle factors in between.
 * Against the mixed-radix plan (16 then 15 with twiddles) this saves 225 complex multiplications
 * and their table loads per transform. The first pass also reads the frame straight out of the
 * signal with the window applied (the packing of `RealFft`: x[n] = s[2n]·w[2n] +
 * i·s[2n+1]·w[2n+1]), so the frame is never copied.
 *
 * @packageDocumentation
 */
import { C1_5, C2_5, COS_PI_8, S1_5, S2_5, SIN_60, SIN_PI_8, SQRT1_2 } from './fft-stages.js';

/** Complex length of the prime-factor transform. */
export const PRIME_FACTOR_SIZE = 240;

/** The two index maps, built once per plan. @internal */
export interface PrimeFactorMaps {
  /** `[n2·16 + n1]` → 2·n: where the real part of input n sits in the (real, packed) frame. */
  input: Int32Array;
  /** `[k1·15 + k2]` → output bin k. */
  output: Int32Array;
}

/** Builds the Good–Thomas input and output index maps for 240 = 16 · 15. @internal */
export function primeFactorMaps(): PrimeFactorMaps {
  const input = new Int32Array(PRIME_FACTOR_SIZE);
  for (let n2 = 0; n2 < 15; n2++) {
    for (let n1 = 0; n1 < 16; n1++) input[n2 * 16 + n1] = 2 * ((15 * n1 + 16 * n2) % PRIME_FACTOR_SIZE);
  }
  // 225 = 15 · (15⁻¹ mod 16) and 16 = 16 · (16⁻¹ mod 15): the Chinese-remainder reconstruction.
  const output = new Int32Array(PRIME_FACTOR_SIZE);
  for (let k1 = 0; k1 < 16; k1++) {
    for (let k2 = 0; k2 < 15; k2++) output[k1 * 15 + k2] = (225 * k1 + 16 * k2) % PRIME_FACTOR_SIZE;
  }
  return { input, output };
}

/**
 * 240-point FFT of the windowed real frame `frame[start .. start + 480)` packed two samples per
 * complex value (window `window[0 .. 480)`); the spectrum goes to (re, im) in natural order.
 * `scratch` (≥ 480 entries) holds the intermediate 16 × 15 array with real and imaginary parts
 * interleaved: one array instead of two leaves V8 a spare register pair in the codelets.
 * @internal
 */
export function primeFactorFft(
  frame: Float32Array,
  start: number,
  window: Float64Array,
  maps: PrimeFactorMaps,
  scratch: Float64Array,
  re: Float64Array,
  im: Float64Array,
): void {
  columnDfts16(frame, start, window, maps.input, scratch);
  rowDfts15(scratch, maps.output, re, im);
}

/**
 * The 16-point DFTs over n1 of the 15 columns n2, read from the frame through the input map,
 * into entry k1·15 + n2 of `y` (interleaved re, im). Each is written out as 4 × 4: 4-point DFTs over x[4·m1 + m2], the inner
 * twiddles W16^(m2·j1) (only ±i, (±1 − i)/√2 and cos/sin of π/8, so constants), then 4-point
 * DFTs over m2. The loop over columns sits inside the function: a call per column cost ~7 % of
 * the whole transform.
 */
function columnDfts16(
  frame: Float32Array,
  start: number,
  window: Float64Array,
  index: Int32Array,
  y: Float64Array,
): void {
  for (let n2 = 0; n2 < 15; n2++) {
    const c = 16 * n2;
    const o = 2 * n2;
    // 4-point DFT of x[0], x[4], x[8], x[12]
    const at0 = index[c] as number;
    const x0r = (frame[start + at0] as number) * (window[at0] as number);
    const x0i = (frame[start + at0 + 1] as number) * (window[at0 + 1] as number);
    const at4 = index[c + 4] as number;
    const x4r = (frame[start + at4] as number) * (window[at4] as number);
    const x4i = (frame[start + at4 + 1] as number) * (window[at4 + 1] as number);
    const at8 = index[c + 8] as number;
    const x8r = (frame[start + at8] as number) * (window[at8] as number);
    const x8i = (frame[start + at8 + 1] as number) * (window[at8 + 1] as number);
    const at12 = index[c + 12] as number;
    const x12r = (frame[start + at12] as number) * (window[at12] as number);
    const x12i = (frame[start + at12 + 1] as number) * (window[at12 + 1] as number);
    const p00r = x0r + x8r;
    const p00i = x0i + x8i;
    const p01r = x0r - x8r;
    const p01i = x0i - x8i;
    const p02r = x4r + x12r;
    const p02i = x4i + x12i;
    const p03r = x4i - x12i;
    const p03i = x12r - x4r;
    const a00r = p00r + p02r;
    const a00i = p00i + p02i;
    const a01r = p01r + p03r;
    const a01i = p01i + p03i;
    const a02r = p00r - p02r;
    const a02i = p00i - p02i;
    const a03r = p01r - p03r;
    const a03i = p01i - p03i;
    // 4-point DFT of x[1], x[5], x[9], x[13]
    const at1 = index[c + 1] as number;
    const x1r = (frame[start + at1] as number) * (window[at1] as number);
    const x1i = (frame[start + at1 + 1] as number) * (window[at1 + 1] as number);
    const at5 = index[c + 5] as number;
    const x5r = (frame[start + at5] as number) * (window[at5] as number);
    const x5i = (frame[start + at5 + 1] as number) * (window[at5 + 1] as number);
    const at9 = index[c + 9] as number;
    const x9r = (frame[start + at9] as number) * (window[at9] as number);
    const x9i = (frame[start + at9 + 1] as number) * (window[at9 + 1] as number);
    const at13 = index[c + 13] as number;
    const x13r = (frame[start + at13] as number) * (window[at13] as number);
    const x13i = (frame[start + at13 + 1] as number) * (window[at13 + 1] as number);
    const p10r = x1r + x9r;
    const p10i = x1i + x9i;
    const p11r = x1r - x9r;
    const p11i = x1i - x9i;
    const p12r = x5r + x13r;
    const p12i = x5i + x13i;
    const p13r = x5i - x13i;
    const p13i = x13r - x5r;
    const a10r = p10r + p12r;
    const a10i = p10i + p12i;
    const a11r = p11r + p13r;
    const a11i = p11i + p13i;
    const a12r = p10r - p12r;
    const a12i = p10i - p12i;
    const a13r = p11r - p13r;
    const a13i = p11i - p13i;
    // 4-point DFT of x[2], x[6], x[10], x[14]
    const at2 = index[c + 2] as number;
    const x2r = (frame[start + at2] as number) * (window[at2] as number);
    const x2i = (frame[start + at2 + 1] as number) * (window[at2 + 1] as number);
    const at6 = index[c + 6] as number;
    const x6r = (frame[start + at6] as number) * (window[at6] as number);
    const x6i = (frame[start + at6 + 1] as number) * (window[at6 + 1] as number);
    const at10 = index[c + 10] as number;
    const x10r = (frame[start + at10] as number) * (window[at10] as number);
    const x10i = (frame[start + at10 + 1] as number) * (window[at10 + 1] as number);
    const at14 = index[c + 14] as number;
    const x14r = (frame[start + at14] as number) * (window[at14] as number);
    const x14i = (frame[start + at14 + 1] as number) * (window[at14 + 1] as number);
    const p20r = x2r + x10r;
    const p20i = x2i + x10i;
    const p21r = x2r - x10r;
    const p21i = x2i - x10i;
    const p22r = x6r + x14r;
    const p22i = x6i + x14i;
    const p23r = x6i - x14i;
    const p23i = x14r - x6r;
    const a20r = p20r + p22r;
    const a20i = p20i + p22i;
    const a21r = p21r + p23r;
    const a21i = p21i + p23i;
    const a22r = p20r - p22r;
    const a22i = p20i - p22i;
    const a23r = p21r - p23r;
    const a23i = p21i - p23i;
    // 4-point DFT of x[3], x[7], x[11], x[15]
    const at3 = index[c + 3] as number;
    const x3r = (frame[start + at3] as number) * (window[at3] as number);
    const x3i = (frame[start + at3 + 1] as number) * (window[at3 + 1] as number);
    const at7 = index[c + 7] as number;
    const x7r = (frame[start + at7] as number) * (window[at7] as number);
    const x7i = (frame[start + at7 + 1] as number) * (window[at7 + 1] as number);
    const at11 = index[c + 11] as number;
    const x11r = (frame[start + at11] as number) * (window[at11] as number);
    const x11i = (frame[start + at11 + 1] as number) * (window[at11 + 1] as number);
    const at15 = index[c + 15] as number;
    const x15r = (frame[start + at15] as number) * (window[at15] as number);
    const x15i = (frame[start + at15 + 1] as number) * (window[at15 + 1] as number);
    const p30r = x3r + x11r;
    const p30i = x3i + x11i;
    const p31r = x3r - x11r;
    const p31i = x3i - x11i;
    const p32r = x7r + x15r;
    const p32i = x7i + x15i;
    const p33r = x7i - x15i;
    const p33i = x15r - x7r;
    const a30r = p30r + p32r;
    const a30i = p30i + p32i;
    const a31r = p31r + p33r;
    const a31i = p31i + p33i;
    const a32r = p30r - p32r;
    const a32i = p30i - p32i;
    const a33r = p31r - p33r;
    const a33i = p31i - p33i;
    // Inner twiddles W16^(at2·k1)
    const b11r = COS_PI_8 * a11r + SIN_PI_8 * a11i;
    const b11i = COS_PI_8 * a11i - SIN_PI_8 * a11r;
    const b12r = SQRT1_2 * (a12r + a12i);
    const b12i = SQRT1_2 * (a12i - a12r);
    const b13r = SIN_PI_8 * a13r + COS_PI_8 * a13i;
    const b13i = SIN_PI_8 * a13i - COS_PI_8 * a13r;
    const b21r = SQRT1_2 * (a21r + a21i);
    const b21i = SQRT1_2 * (a21i - a21r);
    const b22r = a22i;
    const b22i = -a22r;
    const b23r = SQRT1_2 * (a23i - a23r);
    const b23i = -SQRT1_2 * (a23r + a23i);
    const b31r = SIN_PI_8 * a31r + COS_PI_8 * a31i;
    const b31i = SIN_PI_8 * a31i - COS_PI_8 * a31r;
    const b32r = SQRT1_2 * (a32i - a32r);
    const b32i = -SQRT1_2 * (a32r + a32i);
    const b33r = -COS_PI_8 * a33r - SIN_PI_8 * a33i;
    const b33i = SIN_PI_8 * a33r - COS_PI_8 * a33i;
    // 4-point DFT over at2 for k1 = 0: outputs 0, 4, 8, 12
    const q00r = a00r + a20r;
    const q00i = a00i + a20i;
    const q01r = a00r - a20r;
    const q01i = a00i - a20i;
    const q02r = a10r + a30r;
    const q02i = a10i + a30i;
    const q03r = a10i - a30i;
    const q03i = a30r - a10r;
    const y0r = q00r + q02r;
    const y0i = q00i + q02i;
    const y4r = q01r + q03r;
    const y4i = q01i + q03i;
    const y8r = q00r - q02r;
    const y8i = q00i - q02i;
    const y12r = q01r - q03r;
    const y12i = q01i - q03i;
    // 4-point DFT over at2 for k1 = 1: outputs 1, 5, 9, 13
    const q10r = a01r + b21r;
    const q10i = a01i + b21i;
    const q11r = a01r - b21r;
    const q11i = a01i - b21i;
    const q12r = b11r + b31r;
    const q12i = b11i + b31i;
    const q13r = b11i - b31i;
    const q13i = b31r - b11r;
    const y1r = q10r + q12r;
    const y1i = q10i + q12i;
    const y5r = q11r + q13r;
    const y5i = q11i + q13i;
    const y9r = q10r - q12r;
    const y9i = q10i - q12i;
    const y13r = q11r - q13r;
    const y13i = q11i - q13i;
    // 4-point DFT over at2 for k1 = 2: outputs 2, 6, 10, 14
    const q20r = a02r + b22r;
    const q20i = a02i + b22i;
    const q21r = a02r - b22r;
    const q21i = a02i - b22i;
    const q22r = b12r + b32r;
    const q22i = b12i + b32i;
    const q23r = b12i - b32i;
    const q23i = b32r - b12r;
    const y2r = q20r + q22r;
    const y2i = q20i + q22i;
    const y6r = q21r + q23r;
    const y6i = q21i + q23i;
    const y10r = q20r - q22r;
    const y10i = q20i - q22i;
    const y14r = q21r - q23r;
    const y14i = q21i - q23i;
    // 4-point DFT over at2 for k1 = 3: outputs 3, 7, 11, 15
    const q30r = a03r + b23r;
    const q30i = a03i + b23i;
    const q31r = a03r - b23r;
    const q31i = a03i - b23i;
    const q32r = b13r + b33r;
    const q32i = b13i + b33i;
    const q33r = b13i - b33i;
    const q33i = b33r - b13r;
    const y3r = q30r + q32r;
    const y3i = q30i + q32i;
    const y7r = q31r + q33r;
    const y7i = q31i + q33i;
    const y11r = q30r - q32r;
    const y11i = q30i - q32i;
    const y15r = q31r - q33r;
    const y15i = q31i - q33i;
    y[o] = y0r;
    y[o + 1] = y0i;
    y[o + 30] = y1r;
    y[o + 30 + 1] = y1i;
    y[o + 60] = y2r;
    y[o + 60 + 1] = y2i;
    y[o + 90] = y3r;
    y[o + 90 + 1] = y3i;
    y[o + 120] = y4r;
    y[o + 120 + 1] = y4i;
    y[o + 150] = y5r;
    y[o + 150 + 1] = y5i;
    y[o + 180] = y6r;
    y[o + 180 + 1] = y6i;
    y[o + 210] = y7r;
    y[o + 210 + 1] = y7i;
    y[o + 240] = y8r;
    y[o + 240 + 1] = y8i;
    y[o + 270] = y9r;
    y[o + 270 + 1] = y9i;
    y[o + 300] = y10r;
    y[o + 300 + 1] = y10i;
    y[o + 330] = y11r;
    y[o + 330 + 1] = y11i;
    y[o + 360] = y12r;
    y[o + 360 + 1] = y12i;
    y[o + 390] = y13r;
    y[o + 390 + 1] = y13i;
    y[o + 420] = y14r;
    y[o + 420 + 1] = y14i;
    y[o + 450] = y15r;
    y[o + 450 + 1] = y15i;
  }
}

/**
 * The 15-point DFTs of the 16 rows (entries 15·k1 .. 15·k1 + 14 of `x`, interleaved re, im),
 * output k2 of row k1 written to `y[index[15·k1 + k2]]`, each as its own prime-factor split
 * 15 = 3 · 5: with n = (5·n_a + 3·n_b) mod 15, three 5-point DFTs over n_b then five 3-point
 * DFTs over n_a, output k = (10·k_a + 6·k_b) mod 15.
 */
function rowDfts15(x: Float64Array, index: Int32Array, yr: Float64Array, yi: Float64Array): void {
  for (let i0 = 0; i0 < 240; i0 += 15) {
    const i2 = 2 * i0;
    // 5-point DFT of x[0], x[3], x[6], x[9], x[12]
    const x0r = x[i2] as number;
    const x0i = x[i2 + 1] as number;
    const x3r = x[i2 + 6] as number;
    const x3i = x[i2 + 7] as number;
    const x6r = x[i2 + 12] as number;
    const x6i = x[i2 + 13] as number;
    const x9r = x[i2 + 18] as number;
    const x9i = x[i2 + 19] as number;
    const x12r = x[i2 + 24] as number;
    const x12i = x[i2 + 25] as number;
    const f0a1r = x3r + x12r;
    const f0a1i = x3i + x12i;
    const f0a2r = x6r + x9r;
    const f0a2i = x6i + x9i;
    const f0b1r = x3r - x12r;
    const f0b1i = x3i - x12i;
    const f0b2r = x6r - x9r;
    const f0b2i = x6i - x9i;
    const f0c1r = x0r + C1_5 * f0a1r + C2_5 * f0a2r;
    const f0c1i = x0i + C1_5 * f0a1i + C2_5 * f0a2i;
    const f0c2r = x0r + C2_5 * f0a1r + C1_5 * f0a2r;
    const f0c2i = x0i + C2_5 * f0a1i + C1_5 * f0a2i;
    const f0d1r = S1_5 * f0b1i + S2_5 * f0b2i;
    const f0d1i = -(S1_5 * f0b1r + S2_5 * f0b2r);
    const f0d2r = S2_5 * f0b1i - S1_5 * f0b2i;
    const f0d2i = -(S2_5 * f0b1r - S1_5 * f0b2r);
    const u00r = x0r + f0a1r + f0a2r;
    const u00i = x0i + f0a1i + f0a2i;
    const u01r = f0c1r + f0d1r;
    const u01i = f0c1i + f0d1i;
    const u02r = f0c2r + f0d2r;
    const u02i = f0c2i + f0d2i;
    const u03r = f0c2r - f0d2r;
    const u03i = f0c2i - f0d2i;
    const u04r = f0c1r - f0d1r;
    const u04i = f0c1i - f0d1i;
    // 5-point DFT of x[5], x[8], x[11], x[14], x[2]
    const x5r = x[i2 + 10] as number;
    const x5i = x[i2 + 11] as number;
    const x8r = x[i2 + 16] as number;
    const x8i = x[i2 + 17] as number;
    const x11r = x[i2 + 22] as number;
    const x11i = x[i2 + 23] as number;
    const x14r = x[i2 + 28] as number;
    const x14i = x[i2 + 29] as number;
    const x2r = x[i2 + 4] as number;
    const x2i = x[i2 + 5] as number;
    const f1a1r = x8r + x2r;
    const f1a1i = x8i + x2i;
    const f1a2r = x11r + x14r;
    const f1a2i = x11i + x14i;
    const f1b1r = x8r - x2r;
    const f1b1i = x8i - x2i;
    const f1b2r = x11r - x14r;
    const f1b2i = x11i - x14i;
    const f1c1r = x5r + C1_5 * f1a1r + C2_5 * f1a2r;
    const f1c1i = x5i + C1_5 * f1a1i + C2_5 * f1a2i;
    const f1c2r = x5r + C2_5 * f1a1r + C1_5 * f1a2r;
    const f1c2i = x5i + C2_5 * f1a1i + C1_5 * f1a2i;
    const f1d1r = S1_5 * f1b1i + S2_5 * f1b2i;
    const f1d1i = -(S1_5 * f1b1r + S2_5 * f1b2r);
    const f1d2r = S2_5 * f1b1i - S1_5 * f1b2i;
    const f1d2i = -(S2_5 * f1b1r - S1_5 * f1b2r);
    const u10r = x5r + f1a1r + f1a2r;
    const u10i = x5i + f1a1i + f1a2i;
    const u11r = f1c1r + f1d1r;
    const u11i = f1c1i + f1d1i;
    const u12r = f1c2r + f1d2r;
    const u12i = f1c2i + f1d2i;
    const u13r = f1c2r - f1d2r;
    const u13i = f1c2i - f1d2i;
    const u14r = f1c1r - f1d1r;
    const u14i = f1c1i - f1d1i;
    // 5-point DFT of x[10], x[13], x[1], x[4], x[7]
    const x10r = x[i2 + 20] as number;
    const x10i = x[i2 + 21] as number;
    const x13r = x[i2 + 26] as number;
    const x13i = x[i2 + 27] as number;
    const x1r = x[i2 + 2] as number;
    const x1i = x[i2 + 3] as number;
    const x4r = x[i2 + 8] as number;
    const x4i = x[i2 + 9] as number;
    const x7r = x[i2 + 14] as number;
    const x7i = x[i2 + 15] as number;
    const f2a1r = x13r + x7r;
    const f2a1i = x13i + x7i;
    const f2a2r = x1r + x4r;
    const f2a2i = x1i + x4i;
    const f2b1r = x13r - x7r;
    const f2b1i = x13i - x7i;
    const f2b2r = x1r - x4r;
    const f2b2i = x1i - x4i;
    const f2c1r = x10r + C1_5 * f2a1r + C2_5 * f2a2r;
    const f2c1i = x10i + C1_5 * f2a1i + C2_5 * f2a2i;
    const f2c2r = x10r + C2_5 * f2a1r + C1_5 * f2a2r;
    const f2c2i = x10i + C2_5 * f2a1i + C1_5 * f2a2i;
    const f2d1r = S1_5 * f2b1i + S2_5 * f2b2i;
    const f2d1i = -(S1_5 * f2b1r + S2_5 * f2b2r);
    const f2d2r = S2_5 * f2b1i - S1_5 * f2b2i;
    const f2d2i = -(S2_5 * f2b1r - S1_5 * f2b2r);
    const u20r = x10r + f2a1r + f2a2r;
    const u20i = x10i + f2a1i + f2a2i;
    const u21r = f2c1r + f2d1r;
    const u21i = f2c1i + f2d1i;
    const u22r = f2c2r + f2d2r;
    const u22i = f2c2i + f2d2i;
    const u23r = f2c2r - f2d2r;
    const u23i = f2c2i - f2d2i;
    const u24r = f2c1r - f2d1r;
    const u24i = f2c1i - f2d1i;
    // 3-point DFT over n_a for k_b = 0: outputs [0, 10, 5]
    const g0sr = u10r + u20r;
    const g0si = u10i + u20i;
    const g0mr = u00r - 0.5 * g0sr;
    const g0mi = u00i - 0.5 * g0si;
    const g0dr = SIN_60 * (u10i - u20i);
    const g0di = -SIN_60 * (u10r - u20r);
    const y0r = u00r + g0sr;
    const y0i = u00i + g0si;
    const o0 = index[i0] as number;
    yr[o0] = y0r;
    yi[o0] = y0i;
    const y10r = g0mr + g0dr;
    const y10i = g0mi + g0di;
    const o10 = index[i0 + 10] as number;
    yr[o10] = y10r;
    yi[o10] = y10i;
    const y5r = g0mr - g0dr;
    const y5i = g0mi - g0di;
    const o5 = index[i0 + 5] as number;
    yr[o5] = y5r;
    yi[o5] = y5i;
    // 3-point DFT over n_a for k_b = 1: outputs [6, 1, 11]
    const g1sr = u11r + u21r;
    const g1si = u11i + u21i;
    const g1mr = u01r - 0.5 * g1sr;
    const g1mi = u01i - 0.5 * g1si;
    const g1dr = SIN_60 * (u11i - u21i);
    const g1di = -SIN_60 * (u11r - u21r);
    const y6r = u01r + g1sr;
    const y6i = u01i + g1si;
    const o6 = index[i0 + 6] as number;
    yr[o6] = y6r;
    yi[o6] = y6i;
    const y1r = g1mr + g1dr;
    const y1i = g1mi + g1di;
    const o1 = index[i0 + 1] as number;
    yr[o1] = y1r;
    yi[o1] = y1i;
    const y11r = g1mr - g1dr;
    const y11i = g1mi - g1di;
    const o11 = index[i0 + 11] as number;
    yr[o11] = y11r;
    yi[o11] = y11i;
    // 3-point DFT over n_a for k_b = 2: outputs [12, 7, 2]
    const g2sr = u12r + u22r;
    const g2si = u12i + u22i;
    const g2mr = u02r - 0.5 * g2sr;
    const g2mi = u02i - 0.5 * g2si;
    const g2dr = SIN_60 * (u12i - u22i);
    const g2di = -SIN_60 * (u12r - u22r);
    const y12r = u02r + g2sr;
    const y12i = u02i + g2si;
    const o12 = index[i0 + 12] as number;
    yr[o12] = y12r;
    yi[o12] = y12i;
    const y7r = g2mr + g2dr;
    const y7i = g2mi + g2di;
    const o7 = index[i0 + 7] as number;
    yr[o7] = y7r;
    yi[o7] = y7i;
    const y2r = g2mr - g2dr;
    const y2i = g2mi - g2di;
    const o2 = index[i0 + 2] as number;
    yr[o2] = y2r;
    yi[o2] = y2i;
    // 3-point DFT over n_a for k_b = 3: outputs [3, 13, 8]
    const g3sr = u13r + u23r;
    const g3si = u13i + u23i;
    const g3mr = u03r - 0.5 * g3sr;
    const g3mi = u03i - 0.5 * g3si;
    const g3dr = SIN_60 * (u13i - u23i);
    const g3di = -SIN_60 * (u13r - u23r);
    const y3r = u03r + g3sr;
    const y3i = u03i + g3si;
    const o3 = index[i0 + 3] as number;
    yr[o3] = y3r;
    yi[o3] = y3i;
    const y13r = g3mr + g3dr;
    const y13i = g3mi + g3di;
    const o13 = index[i0 + 13] as number;
    yr[o13] = y13r;
    yi[o13] = y13i;
    const y8r = g3mr - g3dr;
    const y8i = g3mi - g3di;
    const o8 = index[i0 + 8] as number;
    yr[o8] = y8r;
    yi[o8] = y8i;
    // 3-point DFT over n_a for k_b = 4: outputs [9, 4, 14]
    const g4sr = u14r + u24r;
    const g4si = u14i + u24i;
    const g4mr = u04r - 0.5 * g4sr;
    const g4mi = u04i - 0.5 * g4si;
    const g4dr = SIN_60 * (u14i - u24i);
    const g4di = -SIN_60 * (u14r - u24r);
    const y9r = u04r + g4sr;
    const y9i = u04i + g4si;
    const o9 = index[i0 + 9] as number;
    yr[o9] = y9r;
    yi[o9] = y9i;
    const y4r = g4mr + g4dr;
    const y4i = g4mi + g4di;
    const o4 = index[i0 + 4] as number;
    yr[o4] = y4r;
    yi[o4] = y4i;
    const y14r = g4mr - g4dr;
    const y14i = g4mi - g4di;
    const o14 = index[i0 + 14] as number;
    yr[o14] = y14r;
    yi[o14] = y14i;
  }
}
