/**
 * `kws-kit distill`: a new student trained against a saved teacher on a Speech Commands folder
 * (`distill` from `kws-kit/distill`), saved with the teacher's labels and front end.
 *
 * @packageDocumentation
 */
import { loadSpeechCommands } from '../data/index.js';
import { type DistillLossName, distill } from '../distill/index.js';
import { KwsError } from '../errors.js';
import { DEFAULT_FRONT_END } from '../features/index.js';
import { kwsMetadata, profile, saveModel } from '../models/index.js';
import { evaluate } from '../train/index.js';
import { modelLabels, resolveModel } from './model-arg.js';
import {
  buildModel,
  type ModelFamily,
  modelSizes,
  nonEmpty,
  type RecipeCommandOptions,
  requireTrainSplit,
  type SpeechCommandsAugment,
  type TrainingRunOptions,
  trainingAugment,
} from './train.js';
import { recipeFeatures } from './training-options.js';

/** Options of {@link runDistill}; names as the command's flags.
 * Run settings; defaults: 30 epochs, batch 100, 1 warm-up epoch (at most the epoch count), augmentation off (the teacher's logits are then cached per clip).
 */
export interface DistillCommandOptions
  extends SpeechCommandsAugment,
    RecipeCommandOptions,
    TrainingRunOptions {
  /** Teacher model argument (see `resolveModel`). */
  teacher: string;
  /** Student family. */
  student: ModelFamily;
  data: string;
  out: string;
  width?: number;
  causal?: boolean;
  hiddenSize?: number;
  /** Student dropout rate. Default the factory's. */
  dropout?: number;
  /** Class names when the teacher has no metadata. */
  labels?: readonly string[];
  /** Default `'mixed'` (`'attention+kd'` needs two CRNNs). */
  loss?: DistillLossName;
  /** Default 4. */
  temperature?: number;
  /** Default 0.5. */
  alpha?: number;
}

/** What {@link runDistill} returns (and `kws-kit distill --json` prints). */
export interface DistillCommandResult {
  out: string;
  labels: string[];
  examples: { train: number; validation: number };
  teacher: { params: number; macs: number; validationAccuracy: number | null };
  student: {
    params: number;
    macs: number;
    validationAccuracy: number | null;
    bestEpoch: number | null;
    bestValidationAccuracy: number | null;
  };
  epochs: number;
  seconds: number;
  recipe: Record<string, unknown>;
  warnings: string[];
}

/**
 * Loads the teacher and the data (under the teacher's labels and front end), distils a new
 * student and saves it.
 *
 * @throws KwsError `NOT_FOUND` / `DATASET_INVALID` / `MODEL_*` for missing or malformed inputs,
 *   `INVALID_ARGUMENT` for bad options or a teacher that does not fit the data.
 */
export async function runDistill(options: DistillCommandOptions): Promise<DistillCommandResult> {
  const teacher = await resolveModel(options.teacher);
  try {
    const labels = modelLabels(teacher, options.labels);
    const frontEnd = teacher.metadata?.frontEnd ?? DEFAULT_FRONT_END;
    const features = recipeFeatures(options as unknown as Record<string, unknown>);
    const differs = Object.entries(features.frontEnd).some(
      ([k, v]) => (frontEnd as unknown as Record<string, unknown>)[k] !== v,
    );
    if (features.customFrontEnd && differs) {
      throw new KwsError(
        'INVALID_ARGUMENT',
        `the front-end options give ${JSON.stringify(features.frontEnd)}, but the student learns from the teacher's outputs on the teacher's features ${JSON.stringify(frontEnd)}; drop them or use a teacher trained on that front end`,
      );
    }
    const augmentOn = options.augment === true;
    const data = await loadSpeechCommands(options.data, {
      labels,
      splits: ['train', 'validation'],
      features: frontEnd,
      sampleRate: frontEnd.sampleRate,
      keepAudio: augmentOn,
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.onLoadProgress === undefined ? {} : { onProgress: options.onLoadProgress }),
    });
    const trainSplit = requireTrainSplit(data, options.data);
    const validation = nonEmpty(data.splits.validation);
    const epochs = options.epochs ?? 30;
    const batchSize = options.batchSize ?? 100;
    const seed = options.seed ?? 0;
    const optimizer = options.optimizer ?? (options.student === 'crnn' ? 'adam' : 'sgd');
    const loss = options.loss ?? 'mixed';
    const student = buildModel({
      family: options.student,
      numClasses: labels.length,
      inputShape: [trainSplit.frames, trainSplit.bins],
      seed,
      ...(options.width === undefined ? {} : { width: options.width }),
      ...(options.causal === undefined ? {} : { causal: options.causal }),
      ...(options.hiddenSize === undefined ? {} : { hiddenSize: options.hiddenSize }),
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
      ...modelSizes(options),
    });
    const augment = trainingAugment(data.backgroundNoise, options, augmentOn, { ...features, frontEnd });
    try {
      const callbacks = options.onStart?.({ epochs, examples: trainSplit.labels.length, batchSize });
      const result = await distill({
        teacher: teacher.model,
        student,
        train: trainSplit,
        ...(validation === undefined ? {} : { validation }),
        loss,
        temperature: options.temperature ?? 4,
        alpha: options.alpha ?? 0.5,
        epochs,
        batchSize,
        ...(options.microBatch === undefined ? {} : { microBatchSize: options.microBatch }),
        optimizer,
        ...(options.lr === undefined ? {} : { learningRate: options.lr }),
        ...(options.weightDecay === undefined ? {} : { weightDecay: options.weightDecay }),
        schedule: { warmupEpochs: Math.min(options.warmupEpochs ?? 1, epochs) },
        ...(augment === undefined ? {} : { augment }),
        seed,
        ...(options.checkpointDir === undefined ? {} : { checkpointDir: options.checkpointDir }),
        resume: options.resume === true,
        ...(callbacks === undefined ? {} : { callbacks }),
        logger: 'silent',
      });
      const accuracy = (m: typeof student): number | null =>
        validation === undefined ? null : evaluate(m, validation, { batchSize }).accuracy;
      const teacherCost = profile(teacher.model).total;
      const studentCost = profile(student).total;
      const recipe: Record<string, unknown> = {
        teacher: options.teacher,
        student: options.student,
        ...(options.student === 'bc-resnet'
          ? { width: options.width ?? 1, causal: options.causal === true }
          : {}),
        ...(options.hiddenSize === undefined ? {} : { hiddenSize: options.hiddenSize }),
        ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
        ...modelSizes(options),
        ...(features.specAugment === undefined ? {} : { specAugment: features.specAugment }),
        loss,
        temperature: options.temperature ?? 4,
        alpha: options.alpha ?? 0.5,
        epochs,
        batchSize,
        optimizer,
        seed,
        augment: augmentOn,
      };
      const studentAccuracy = accuracy(student);
      const saved = await saveModel(student, options.out, {
        metadata: kwsMetadata(labels, frontEnd, {
          recipe,
          validationAccuracy: studentAccuracy,
          params: studentCost.params,
          macs: studentCost.macs,
        }),
      });
      return {
        out: saved.dir,
        labels,
        examples: { train: trainSplit.labels.length, validation: validation?.labels.length ?? 0 },
        teacher: {
          params: teacherCost.params,
          macs: teacherCost.macs,
          validationAccuracy: accuracy(teacher.model),
        },
        student: {
          params: studentCost.params,
          macs: studentCost.macs,
          validationAccuracy: studentAccuracy,
          bestEpoch: result.bestEpoch,
          bestValidationAccuracy: result.bestValidationAccuracy,
        },
        epochs: result.epochs,
        seconds: result.seconds,
        recipe,
        warnings: data.warnings,
      };
    } finally {
      student.dispose();
    }
  } finally {
    teacher.model.dispose();
  }
}
