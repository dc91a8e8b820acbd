import { describe, expect, it } from 'vitest';
import { ComplexFft, RealFft } from '../../src/features/fft.js';
import { createRng } from '../../src/random.js';

/** Direct O(N²) DFT in double precision: the definition the FFT must match. */
function dft(re: Float64Array, im: Float64Array): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let a = 0;
    let b = 0;
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * ((k * t) % n)) / n;
      a += re[t]! * Math.cos(angle) - im[t]! * Math.sin(angle);
      b += re[t]! * Math.sin(angle) + im[t]! * Math.cos(angle);
    }
    outRe[k] = a;
    outIm[k] = b;
  }
  return { re: outRe, im: outIm };
}

// Powers of two, the front end's sizes (400, 480, 512), odd sizes and sizes with primes > 5.
const SIZES = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 16, 25, 30, 49, 64, 77, 97, 120, 240, 256, 400, 480, 512, 1000,
];

describe('ComplexFft', () => {
  it.each(SIZES)('matches the direct DFT for N = %i', (n) => {
    const rng = createRng(n);
    const re = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const im = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const ref = dft(re, im);
    new ComplexFft(n).forward(re, im);
    let err = 0;
    for (let k = 0; k < n; k++)
      err = Math.max(err, Math.abs(re[k]! - ref.re[k]!), Math.abs(im[k]! - ref.im[k]!));
    expect(err).toBeLessThan(1e-9 * Math.max(1, n));
  });
});

describe('RealFft', () => {
  it.each(SIZES)('matches the direct DFT of a real signal for N = %i', (n) => {
    const rng = createRng(1000 + n);
    const x = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const ref = dft(x, new Float64Array(n));
    const plan = new RealFft(n);
    expect(plan.bins).toBe(Math.floor(n / 2) + 1);
    const re = new Float64Array(plan.bins);
    const im = new Float64Array(plan.bins);
    plan.forward(x, re, im);
    let err = 0;
    for (let k = 0; k < plan.bins; k++) {
      err = Math.max(err, Math.abs(re[k]! - ref.re[k]!), Math.abs(im[k]! - ref.im[k]!));
    }
    expect(err).toBeLessThan(1e-9 * Math.max(1, n));
  });

  it('gives exact values for an impulse and a cosine', () => {
    const n = 480;
    const plan = new RealFft(n);
    const re = new Float64Array(plan.bins);
    const im = new Float64Array(plan.bins);
    const impulse = new Float64Array(n);
    impulse[0] = 1;
    plan.forward(impulse, re, im);
    for (let k = 0; k < plan.bins; k++) {
      expect(re[k]).toBeCloseTo(1, 12);
      expect(im[k]).toBeCloseTo(0, 12);
    }
    const cosine = Float64Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 12 * t) / n));
    plan.forward(cosine, re, im);
    expect(re[12]).toBeCloseTo(n / 2, 9);
    expect(Math.abs(re[11]!) + Math.abs(re[13]!)).toBeLessThan(1e-9);
  });
});
