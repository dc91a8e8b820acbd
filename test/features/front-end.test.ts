import { describe, expect, it } from 'vitest';
import { KwsError } from '../../src/errors.js';
import { DEFAULT_FRONT_END, logMelSpectrogram } from '../../src/features/front-end.js';
import { melFilterbank } from '../../src/features/mel.js';
import { melSpectrogram } from '../../src/features/mel-spectrogram.js';
import { cepstrum, dctMatrix, mfcc } from '../../src/features/mfcc.js';
import { logMel, powerToDb } from '../../src/features/scale.js';
import { frameCount, spectrogram, stft } from '../../src/features/stft.js';
import { makeWindow } from '../../src/features/window.js';
import { createRng } from '../../src/random.js';

function tone(length: number, hz: number, rate = 16000): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate));
}

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KwsError);
  expect((caught as KwsError).code).toBe(code);
  expect((caught as KwsError).message.length).toBeGreaterThan(20);
}

describe('default KWS front end', () => {
  it('is the BC-ResNet paper front end: 1 s → 101 frames × 40 log-mels', () => {
    expect(DEFAULT_FRONT_END).toMatchObject({
      sampleRate: 16000,
      nFft: 480,
      hopLength: 160,
      nMels: 40,
      eps: 1e-6,
    });
    const features = logMelSpectrogram(tone(16000, 1000));
    expect(features.frames).toBe(101);
    expect(features.bins).toBe(40);
    expect(features.data.length).toBe(101 * 40);
  });

  it('equals ln(melSpectrogram + 1e-6) exactly', () => {
    const rng = createRng(3);
    const x = Float32Array.from({ length: 8000 }, () => rng.uniform(-0.5, 0.5));
    const viaParts = logMel(melSpectrogram(x, DEFAULT_FRONT_END), { eps: 1e-6 });
    expect(logMelSpectrogram(x).data).toEqual(viaParts.data);
  });

  it('maps digital silence to ln(1e-6) and a 1 kHz tone to the band that contains 1 kHz', () => {
    const silent = logMelSpectrogram(new Float32Array(16000));
    for (const v of silent.data) expect(v).toBeCloseTo(Math.log(1e-6), 5);
    const fb = melFilterbank({ sampleRate: 16000, nFft: 480, nMels: 40, fMax: 8000 });
    const dense = fb.toDense();
    const bin1k = Math.round((1000 / 8000) * 240);
    let bestBand = 0;
    for (let m = 1; m < 40; m++) if (dense[bin1k * 40 + m]! > dense[bin1k * 40 + bestBand]!) bestBand = m;
    const f = logMelSpectrogram(tone(16000, 1000));
    const frame = 50;
    let loudest = 0;
    for (let m = 1; m < 40; m++) if (f.data[frame * 40 + m]! > f.data[frame * 40 + loudest]!) loudest = m;
    expect(loudest).toBe(bestBand);
  });
});

describe('stft and spectrogram', () => {
  it('counts frames like torch.stft', () => {
    expect(frameCount(16000, 480, 160, true)).toBe(101);
    expect(frameCount(16000, 480, 160, false)).toBe(98);
    expect(frameCount(479, 480, 160, false)).toBe(0);
    expect(spectrogram(tone(1000, 440), { nFft: 400, hopLength: 100 }).frames).toBe(11);
  });

  it('has power = |stft|² and magnitude = |stft| (Parseval per frame)', () => {
    const x = tone(4000, 700);
    const options = { nFft: 512, winLength: 400, hopLength: 160, window: 'hann' as const };
    const complex = stft(x, options);
    const power = spectrogram(x, { ...options, power: 2 });
    const magnitude = spectrogram(x, { ...options, power: 1 });
    for (let i = 0; i < power.data.length; i++) {
      const p = complex.real[i]! ** 2 + complex.imag[i]! ** 2;
      expect(power.data[i]).toBeCloseTo(p, 2);
      expect(magnitude.data[i]).toBeCloseTo(Math.sqrt(power.data[i]!), 3);
    }
    // Parseval on frame 10: Σ|x_w|² = (|X₀|² + 2Σ|X_k|² + |X_{N/2}|²)/N for even N.
    const w = makeWindow('hann', 400);
    let energy = 0;
    for (let n = 0; n < 400; n++) energy += (x[10 * 160 - 256 + 56 + n]! * w[n]!) ** 2;
    let spectral = 0;
    for (let k = 0; k <= 256; k++) spectral += (k === 0 || k === 256 ? 1 : 2) * power.data[10 * 257 + k]!;
    expect(spectral / 512).toBeCloseTo(energy, 3);
  });
});

describe('mfcc', () => {
  it('uses an orthonormal DCT-II', () => {
    const d = dctMatrix(40, 40, 'ortho');
    for (let a = 0; a < 40; a++) {
      for (let b = 0; b < 40; b++) {
        let dot = 0;
        for (let n = 0; n < 40; n++) dot += d[a * 40 + n]! * d[b * 40 + n]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
  });

  it('is the DCT of the dB mel spectrogram', () => {
    const x = tone(8000, 300);
    const options = { sampleRate: 16000, nFft: 480, hopLength: 160, nMels: 40 };
    const viaParts = cepstrum(powerToDb(melSpectrogram(x, options), { topDb: 80 }), { nMfcc: 13 });
    const direct = mfcc(x, { ...options, nMfcc: 13 });
    expect(direct.bins).toBe(13);
    expect(direct.data).toEqual(viaParts.data);
  });
});

describe('bad input', () => {
  const x = tone(16000, 440);
  it.each([
    [
      'NaN sample',
      () => melSpectrogram(Float32Array.of(0, Number.NaN, ...new Float32Array(600))),
      'NON_FINITE_INPUT',
    ],
    [
      'Infinity sample',
      () => logMelSpectrogram(Float32Array.of(Number.POSITIVE_INFINITY, ...x)),
      'NON_FINITE_INPUT',
    ],
    ['empty signal', () => melSpectrogram(new Float32Array(0)), 'EMPTY_INPUT'],
    ['not a Float32Array', () => melSpectrogram([1, 2, 3] as unknown as Float32Array), 'INVALID_ARGUMENT'],
    ['zero sample rate', () => melSpectrogram(x, { sampleRate: 0 }), 'INVALID_SAMPLE_RATE'],
    ['negative sample rate', () => melSpectrogram(x, { sampleRate: -16000 }), 'INVALID_SAMPLE_RATE'],
    ['NaN sample rate', () => logMelSpectrogram(x, { sampleRate: Number.NaN }), 'INVALID_SAMPLE_RATE'],
    ['nFft < winLength', () => melSpectrogram(x, { nFft: 256, winLength: 400 }), 'INVALID_FFT_SIZE'],
    ['too many mels', () => melSpectrogram(x, { nFft: 64, nMels: 128 }), 'EMPTY_MEL_FILTER'],
    ['fMax above Nyquist', () => melSpectrogram(x, { fMax: 9000 }), 'INVALID_ARGUMENT'],
    ['fMin >= fMax', () => melSpectrogram(x, { fMin: 4000, fMax: 3000 }), 'INVALID_ARGUMENT'],
    ['fractional hop', () => melSpectrogram(x, { hopLength: 1.5 }), 'INVALID_ARGUMENT'],
    ['zero hop', () => spectrogram(x, { hopLength: 0 }), 'INVALID_ARGUMENT'],
    ['unknown window', () => spectrogram(x, { window: 'blackman' as never }), 'INVALID_ARGUMENT'],
    ['window of the wrong length', () => spectrogram(x, { window: new Float32Array(10) }), 'SHAPE_MISMATCH'],
    ['unknown pad mode', () => spectrogram(x, { padMode: 'edge' as never }), 'INVALID_ARGUMENT'],
    ['power 3', () => spectrogram(x, { power: 3 as never }), 'INVALID_ARGUMENT'],
    ['unknown mel scale', () => melFilterbank({ melScale: 'bark' as never }), 'INVALID_ARGUMENT'],
    ['unknown norm', () => melFilterbank({ norm: 'l2' as never }), 'INVALID_ARGUMENT'],
    [
      'short signal, center=false',
      () => spectrogram(new Float32Array(100), { nFft: 400, center: false }),
      'SIGNAL_TOO_SHORT',
    ],
    ['short signal, reflect', () => spectrogram(new Float32Array(100), { nFft: 400 }), 'SIGNAL_TOO_SHORT'],
    [
      'eps = 0',
      () => logMel({ data: new Float32Array(4), frames: 2, bins: 2 }, { eps: 0 }),
      'INVALID_ARGUMENT',
    ],
    [
      'spectrogram with a wrong shape',
      () => logMel({ data: new Float32Array(5), frames: 2, bins: 2 }),
      'SHAPE_MISMATCH',
    ],
    ['spectrogram that is not one', () => powerToDb({} as never), 'INVALID_ARGUMENT'],
    [
      'negative topDb',
      () => powerToDb({ data: new Float32Array(4), frames: 2, bins: 2 }, { topDb: -1 }),
      'INVALID_ARGUMENT',
    ],
    ['nMfcc > nMels', () => mfcc(x, { nMels: 20, nMfcc: 40 }), 'INVALID_ARGUMENT'],
    ['options not an object', () => melSpectrogram(x, 5 as never), 'INVALID_ARGUMENT'],
  ])('%s → KwsError', (_name, fn, code) => {
    expectCode(fn, code);
  });

  it('accepts a short signal with constant padding', () => {
    const s = spectrogram(new Float32Array(100), { nFft: 400, padMode: 'constant' });
    expect(s.frames).toBe(1);
  });
});
