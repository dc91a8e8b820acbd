/**
 * `npm run demo`: the front end end to end on a signal the script makes itself (no data needed).
 * A 44.1 kHz stereo "recording" (a chirp, a vowel-like harmonic burst, noise bursts, silence) is
 * written as a WAV, decoded, mixed to mono, resampled to 16 kHz, turned into log-mels offline
 * and in streaming chunks, augmented, and the result printed as a small terminal heat map.
 *
 * Until the model, streaming and CLI areas land, this is the whole story kws-kit can tell.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  createRng,
  DEFAULT_FRONT_END,
  decodeWav,
  encodeWav,
  logMelSpectrogram,
  mfcc,
  mixNoise,
  resample,
  type Spectrogram,
  StreamingFeatureExtractor,
  specAugment,
  toMono,
} from '../src/index.js';

const SOURCE_RATE = 44100;
const seconds = 1.5;
const rng = createRng(7);
const n = Math.round(SOURCE_RATE * seconds);
const left = new Float32Array(n);
for (let i = 0; i < n; i++) {
  const t = i / SOURCE_RATE;
  let v = 0;
  if (t < 0.4) v += 0.4 * Math.sin(2 * Math.PI * (300 * t + 2500 * t * t)); // chirp 300 Hz → 2.3 kHz
  if (t >= 0.5 && t < 0.9) {
    const env = Math.sin((Math.PI * (t - 0.5)) / 0.4);
    for (let h = 1; h <= 12; h++) v += (env * 0.25 * Math.sin(2 * Math.PI * 140 * h * t)) / h; // "vowel"
  }
  if (t >= 1.0 && t < 1.3 && Math.floor(t * 20) % 2 === 0) v += 0.2 * rng.normal(); // noise bursts
  left[i] = v;
}
const right = left.map((v) => 0.8 * v);

const t0 = performance.now();
const wav = encodeWav([left, right], SOURCE_RATE, { bitDepth: 16 });
const decoded = decodeWav(wav);
const mono = toMono(decoded);
const audio = resample(mono, decoded.sampleRate, DEFAULT_FRONT_END.sampleRate);
const features = logMelSpectrogram(audio);
const t1 = performance.now();

// The same features from 37 ms chunks, as a microphone would deliver them (center=false frames).
const extractor = new StreamingFeatureExtractor();
let streamedFrames = 0;
for (let i = 0; i < audio.length; i += 593)
  streamedFrames += extractor.push(audio.subarray(i, i + 593)).frames;

const augmented = specAugment(features, { seed: createRng(1), maskValue: 'mean' });
const noisy = mixNoise(
  audio,
  Float32Array.from({ length: 8000 }, () => rng.normal()),
  { snrDb: 10, seed: 3 },
);
const coefficients = mfcc(audio, { ...DEFAULT_FRONT_END, nMfcc: 13 });

function heatMap(spec: Spectrogram, columns = 75): string {
  const shades = ' .:-=+*#%@';
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of spec.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const rows: string[] = [];
  for (let b = spec.bins - 1; b >= 0; b -= 3) {
    let line = '';
    for (let c = 0; c < columns; c++) {
      const t = Math.floor((c * spec.frames) / columns);
      const v = (spec.data[t * spec.bins + b]! - lo) / (hi - lo || 1);
      line += shades[Math.min(shades.length - 1, Math.floor(v * shades.length))];
    }
    rows.push(`${String(b).padStart(3)} |${line}|`);
  }
  return rows.join('\n');
}

console.log('kws-kit demo: the audio front end on a generated signal\n');
console.log(
  `WAV:        ${wav.length} bytes, ${decoded.channels.length} channels at ${decoded.sampleRate} Hz`,
);
console.log(`resampled:  ${mono.length} samples at 44.1 kHz → ${audio.length} at 16 kHz`);
console.log(
  `log-mel:    ${features.frames} frames × ${features.bins} mels (30 ms windows, 10 ms hop), in ${(t1 - t0).toFixed(1)} ms for decode + resample + features`,
);
console.log(
  `streaming:  ${streamedFrames} frames from 593-sample chunks (centre-less, so ${features.frames - streamedFrames} fewer)`,
);
console.log(`MFCC:       ${coefficients.frames} × ${coefficients.bins}`);
console.log(
  `noise mix:  10 dB SNR, RMS ${Math.sqrt(noisy.reduce((a, v) => a + v * v, 0) / noisy.length).toFixed(3)}`,
);
console.log('\nlog-mel (mel band ↑, time →): chirp, vowel, noise bursts\n');
console.log(heatMap(features));
console.log('\nafter SpecAugment (2 frequency + 2 time masks filled with the mean, seed 1)\n');
console.log(heatMap(augmented));

mkdirSync('demo-out', { recursive: true });
writeFileSync('demo-out/demo.wav', encodeWav(audio, 16000));
console.log('\nwrote demo-out/demo.wav (the 16 kHz mono signal)');
