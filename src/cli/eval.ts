/**
 * `kws-kit eval`: accuracy, per-class figures and the confusion matrix of a saved model on a
 * Speech Commands folder.
 *
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabelSet, loadSpeechCommands, type Split } from '../data/index.js';
import { KwsError } from '../errors.js';
import { modelFromArtifacts, readKwsMetadata } from '../models/index.js';
import { evaluate } from '../train/index.js';
import { resolveModelArtifacts } from './model-arg.js';

/** Options of {@link runEval}. */
export interface EvalCommandOptions {
  /**
   * A pretrained model's name (one of `listPretrained()`, e.g. `'bcresnet1-gsc12'`), or the folder
   * (or model.json path) of a model saved with `saveModel`. A pretrained name wins over a folder of
   * the same name in the working directory; write `./name` for the folder.
   */
  model: string;
  /** Speech Commands folder in the standard layout. */
  data: string;
  /** Which clips: `'auto'` (default) = the test list when it names clips, else every clip. */
  split?: 'auto' | 'all' | 'train' | 'validation' | 'test';
  /** Label set when the model carries no kws-kit metadata. Default `'v2-12'`. */
  labels?: string;
  /** Examples per forward pass. Default 100. */
  batchSize?: number;
  /** Called with (done, total) while clips are decoded. */
  onProgress?: (done: number, total: number) => void;
}

/** What `kws-kit eval --json` prints. */
export interface EvalCommandResult {
  accuracy: number;
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[];
  confusion: number[][];
  labels: string[];
  /** Clips evaluated and where they came from. */
  clips: number;
  split: string;
}

/** Evaluates a pretrained or saved model on a data folder. */
export async function runEval(options: EvalCommandOptions): Promise<EvalCommandResult> {
  const artifacts = await resolveModelArtifacts(options.model);
  const metadata = readKwsMetadata(artifacts.userDefinedMetadata);
  const labels = metadata ? metadata.labels : labelSet(options.labels ?? 'v2-12');
  const which = options.split ?? 'auto';
  const splits: ('train' | 'validation' | 'test')[] =
    which === 'auto'
      ? hasTestList(options.data)
        ? ['test']
        : ['train', 'validation', 'test']
      : which === 'all'
        ? ['train', 'validation', 'test']
        : [which];
  const data = await loadSpeechCommands(options.data, {
    labels,
    splits,
    ...(metadata ? { features: metadata.frontEnd } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const parts = splits
    .map((s) => data.splits[s])
    .filter((s): s is Split => s !== undefined && s.labels.length > 0);
  if (parts.length === 0) {
    throw new KwsError(
      'DATASET_INVALID',
      `no clips to evaluate in ${options.data} (split: ${splits.join(', ')})`,
    );
  }
  const split = concatSplits(parts);
  const model = await modelFromArtifacts(artifacts);
  try {
    const result = evaluate(model, split, { batchSize: options.batchSize ?? 100 });
    return {
      accuracy: result.accuracy,
      perClass: result.perClass,
      confusion: result.confusion,
      labels: result.labels,
      clips: split.labels.length,
      split: splits.length === 3 ? 'all' : splits.join('+'),
    };
  } finally {
    model.dispose();
  }
}

function hasTestList(dir: string): boolean {
  const file = join(dir, 'testing_list.txt');
  return existsSync(file) && readFileSync(file, 'utf8').trim().length > 0;
}

function labelSet(name: string): LabelSet {
  if (name === 'v2-12' || name === 'v2-35') return name;
  const list = name
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length < 2) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `--labels must be v2-12, v2-35 or a comma-separated list; got "${name}"`,
    );
  }
  return list;
}

function concatSplits(parts: Split[]): Split {
  if (parts.length === 1) return parts[0] as Split;
  const first = parts[0] as Split;
  const n = parts.reduce((acc, p) => acc + p.labels.length, 0);
  const features = new Float32Array(n * first.frames * first.bins);
  const labels = new Int32Array(n);
  const files: string[] = [];
  let at = 0;
  for (const p of parts) {
    features.set(p.features, at * first.frames * first.bins);
    labels.set(p.labels, at);
    files.push(...p.files);
    at += p.labels.length;
  }
  const { audio: _dropped, ...shape } = first;
  return { ...shape, features, labels, files };
}
