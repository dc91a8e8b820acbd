/**
 * kws-kit in the browser: microphone → AudioWorklet (chunks at the AudioContext's own rate) →
 * StreamingKWS (resamples to 16 kHz, log-mel, model every 100 ms, smoothing, thresholds) →
 * detections on the page and a live plot of the keyword probabilities.
 *
 * Query parameters: `backend=wasm|webgl|cpu` (default wasm; webgl falls back to wasm when the
 * browser has no WebGL), `threshold=0.8` (detection threshold on the smoothed probability),
 * `model=<url of a model.json>` (another model with kws-kit metadata; default: the pretrained
 * `bcresnet1-gsc12` embedded in kws-kit).
 *
 * For tests the page exposes `window.__kws` ({@link KwsPageState}).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadPretrained, readKwsMetadata, registerKwsLayers } from 'kws-kit/models';
import { DEFAULT_THRESHOLD, type Detection, StreamingKWS, type TimedScores } from 'kws-kit/streaming';
import { CAPTURE_PROCESSOR, type CaptureOptions } from './capture-protocol.js';
import captureWorkletUrl from './capture-worklet.ts?worker&url';
import { ProbabilityPlot } from './probability-plot.js';

/** What the page reports to an automated test. */
interface KwsPageState {
  /** True once the model is loaded and microphone audio reaches the spotter. */
  ready: boolean;
  /** Every detection, in order; `timeMs` is stream time (from the first captured sample). */
  detections: { label: string; score: number; timeMs: number }[];
  /** The first error, if any. */
  error?: string;
  /** The tfjs backend in use. */
  backend?: string;
  /** The AudioContext's sample rate in Hz (the rate of the audio pushed to StreamingKWS). */
  sampleRate?: number;
  /** Stream time pushed so far, in ms. */
  streamMs: number;
}

declare global {
  interface Window {
    __kws: KwsPageState;
  }
}

const params = new URLSearchParams(location.search);
const modelUrl = params.get('model');

/** The model: the one line that picks it (a pretrained name, or any layers-model URL). */
const loadKwsModel = (): Promise<tfl.LayersModel> =>
  modelUrl === null
    ? loadPretrained('bcresnet1-gsc12')
    : tfl.loadLayersModel(new URL(modelUrl, document.baseURI).href);

const state: KwsPageState = { ready: false, detections: [], streamMs: 0 };
window.__kws = state;

const statusEl = document.querySelector<HTMLElement>('#status');
const startButton = document.querySelector<HTMLButtonElement>('#start');
const detectionList = document.querySelector<HTMLOListElement>('#detections');
const canvas = document.querySelector<HTMLCanvasElement>('#plot');

function setStatus(text: string): void {
  if (statusEl !== null) statusEl.textContent = text;
}

function fail(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(error);
  state.error ??= message;
  setStatus(`Error: ${message}`);
}

window.addEventListener('error', (event) => fail(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => fail(event.reason));

/** Activates a tfjs backend; the wasm binaries are served from `tfjs-wasm/` (copied by vite.config.ts). */
async function useBackend(name: string): Promise<string> {
  if (name === 'webgl') {
    await import('@tensorflow/tfjs-backend-webgl');
    if (await tf.setBackend('webgl')) return 'webgl';
    console.warn('WebGL backend unavailable; using wasm');
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    if (await tf.setBackend('cpu')) return 'cpu';
  } else if (name !== 'wasm') {
    throw new Error(`unknown backend ${JSON.stringify(name)}; use wasm, webgl or cpu`);
  }
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(new URL('tfjs-wasm/', document.baseURI).href);
  // setBackend resolves false (it does not throw) when the .wasm files cannot be loaded.
  if (!(await tf.setBackend('wasm')))
    throw new Error('the wasm backend failed to start (are tfjs-wasm/*.wasm served?)');
  return 'wasm';
}

/** Loads the model and its labels (from the kws-kit metadata saved with it). */
async function loadModel(): Promise<{ model: tfl.LayersModel; labels: string[] }> {
  registerKwsLayers();
  const model = await loadKwsModel();
  const metadata = readKwsMetadata(model.getUserDefinedMetadata());
  if (metadata === null)
    throw new Error('the model has no kws-kit metadata (labels); save it with kwsMetadata()');
  return { model, labels: metadata.labels };
}

function showDetection(d: Detection): void {
  state.detections.push({ label: d.label, score: d.score, timeMs: d.timeMs });
  if (detectionList === null) return;
  const item = document.createElement('li');
  item.textContent = `${d.label} at ${(d.timeMs / 1000).toFixed(2)} s (p = ${d.score.toFixed(2)})`;
  detectionList.prepend(item);
}

/** Microphone → worklet → StreamingKWS. Needs a user gesture (browsers start audio only after one). */
async function startListening(kws: StreamingKWS): Promise<void> {
  // No sampleRate option: the context runs at the device's rate and StreamingKWS resamples.
  const context = new AudioContext();
  await context.audioWorklet.addModule(captureWorkletUrl);
  // Voice processing would change the audio the model was trained on.
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const source = context.createMediaStreamSource(stream);
  const processorOptions: CaptureOptions = { chunkSize: 2048 };
  // No outputs: the node is a sink the graph keeps pulling, nothing is played back.
  const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    channelCount: 1,
    channelCountMode: 'explicit',
    processorOptions,
  });
  const rate = context.sampleRate;
  state.sampleRate = rate;
  let pushed = 0;
  capture.port.onmessage = (event: MessageEvent<Float32Array>) => {
    const chunk = event.data;
    pushed += chunk.length;
    state.streamMs = (1000 * pushed) / rate;
    if (!state.ready) {
      state.ready = true;
      setStatus(`Listening (${state.backend}, microphone at ${rate} Hz)`);
    }
    // Pushes queue in order inside StreamingKWS; they need not be awaited one by one.
    kws.push(chunk, rate).catch(fail);
  };
  source.connect(capture);
  await context.resume();
}

async function main(): Promise<void> {
  const threshold = params.has('threshold') ? Number(params.get('threshold')) : DEFAULT_THRESHOLD;
  setStatus('Loading the backend and the model…');
  await useBackend(params.get('backend') ?? 'wasm');
  const { model, labels } = await loadModel();
  // What tfjs actually runs on (a backend that fails to initialise leaves another one active).
  state.backend = tf.getBackend();
  let plot: ProbabilityPlot | null = null;
  const kws = await StreamingKWS.create({
    model,
    labels,
    threshold,
    onDetection: (d) => {
      showDetection(d);
      plot?.mark(d.timeMs, d.label);
    },
    onScores: (s: TimedScores) => plot?.push(s),
  });
  if (canvas !== null) plot = new ProbabilityPlot(canvas, labels, kws.config.keywords, threshold);
  setStatus(`Model loaded (${state.backend}; keywords: ${kws.config.keywords.join(', ')}). Press Start.`);
  if (startButton === null) return;
  startButton.disabled = false;
  startButton.addEventListener(
    'click',
    () => {
      startButton.disabled = true;
      setStatus('Starting the microphone…');
      startListening(kws).catch(fail);
    },
    { once: true },
  );
}

main().catch(fail);
