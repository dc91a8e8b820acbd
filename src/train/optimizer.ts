/**
 * Optimizers with PyTorch's update rules and weight decay, a learning rate that can change at
 * every step, and state that can be saved and restored exactly.
 *
 * - `'sgd'`: PyTorch `SGD(momentum, weight_decay)` (no dampening, no Nesterov):
 *   g ← ∇ + λ·w; b ← μ·b + g (b = g at the first step); w ← w − η·b. Built on tfjs's
 *   `MomentumOptimizer`, whose update is exactly this once λ·w is added to the gradient.
 * - `'adam'`: PyTorch `Adam(weight_decay)`, L2 decay coupled into the gradient: g ← ∇ + λ·w.
 * - `'adamw'`: PyTorch `AdamW`, decoupled decay (Loshchilov & Hutter, "Decoupled Weight Decay
 *   Regularization", ICLR 2019): w ← w·(1 − η·λ), then the Adam step with g = ∇.
 *
 * Adam step (both): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * w ← w − (η/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε). Adam is written here rather than taken from
 * tfjs because tfjs's `AdamOptimizer` keeps its rate in a protected field and, on `setWeights`,
 * rebuilds β1ᵗ with one `pow` instead of the running product, so a resumed run would drift from
 * an uninterrupted one in the last float32 bit. Here t is an integer and the bias corrections
 * are computed in double precision, so save → restore → continue is bit-exact.
 *
 * Weight decay applies to every variable passed in (PyTorch's behaviour for one parameter
 * group: batch-norm scales and biases included).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { KwsError } from '../errors.js';
import { checkChoice, checkNumber, checkOptions } from '../validate.js';

/** A named tensor, as tfjs optimizers' `getWeights()` lists their state. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Names of the optimizers {@link createOptimizer} builds. */
export type OptimizerName = 'sgd' | 'adam' | 'adamw';

/** The optimizer names, for validation and help texts. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

/** Options of {@link createOptimizer}. */
export interface OptimizerOptions {
  /** Which update rule. Default `'sgd'`. */
  optimizer?: OptimizerName;
  /**
   * Initial learning rate η, a finite number ≥ 0 (a schedule changes it every step through
   * {@link TrainingOptimizer.learningRate}). Default 0.1 for `'sgd'`, 1e-3 for Adam(W).
   */
  learningRate?: number;
  /** SGD momentum μ in [0, 1). Default 0.9. Ignored by Adam(W). */
  momentum?: number;
  /** Weight decay λ ≥ 0 (L2 for sgd/adam, decoupled for adamw). Default 0. */
  weightDecay?: number;
  /** Adam β1 in [0, 1). Default 0.9. */
  beta1?: number;
  /** Adam β2 in [0, 1). Default 0.999. */
  beta2?: number;
  /** Adam ε > 0. Default 1e-8 (PyTorch's; tfjs defaults to 1e-7). */
  epsilon?: number;
}

/**
 * An optimizer as the training loop uses it. Owns its slot variables (momentum buffers,
 * moments); call {@link TrainingOptimizer.dispose} when done.
 */
export interface TrainingOptimizer {
  /** The update rule. */
  readonly name: OptimizerName;
  /** Rate used by the next {@link TrainingOptimizer.applyGradients}; may be changed at any time. */
  learningRate: number;
  /** Weight decay λ. */
  readonly weightDecay: number;
  /** Updates applied so far. */
  readonly iterations: number;
  /** Slot variables per model variable in the saved state (1 for sgd, 2 for Adam(W)). */
  readonly slotsPerVariable: number;
  /**
   * One update of `variables` with the gradients in `grads` (keyed by variable name, as
   * `tf.variableGrads` returns them). A variable without a gradient is left untouched (no
   * decay either), as in PyTorch. Always pass the same variables in the same order: slots are
   * matched to variables by position.
   */
  applyGradients(variables: readonly tf.Variable[], grads: tf.NamedTensorMap): void;
  /**
   * The state: `iter` (int32 scalar, updates so far) followed by the slots in variable order
   * (sgd: `<var>/momentum`; Adam(W): all `<var>/m`, then all `<var>/v`). Tensors are copies
   * owned by the caller: dispose them. Empty slots before the first update.
   */
  getWeights(): Promise<NamedTensor[]>;
  /**
   * Restores a state returned by {@link TrainingOptimizer.getWeights} (the tensors are copied;
   * the caller keeps ownership).
   *
   * @throws {@link KwsError} `INVALID_ARGUMENT` if the list is not such a state.
   */
  setWeights(weights: readonly NamedTensor[]): Promise<void>;
  /** Frees the slot variables. */
  dispose(): void;
}

/** tfjs's momentum update, plus the rate scalar its own `dispose` forgets to free. */
class MomentumCore extends tf.MomentumOptimizer {
  override dispose(): void {
    super.dispose();
    this.c.dispose();
  }
}

function decayed(variable: tf.Variable, gradient: tf.Tensor, weightDecay: number): tf.Tensor {
  return weightDecay === 0 ? gradient : tf.add(gradient, tf.mul(variable, weightDecay));
}

function readIterations(weights: readonly NamedTensor[], slots: number): number {
  const first = weights[0];
  if (!Array.isArray(weights) || first === undefined || first.name !== 'iter' || first.tensor.size !== 1) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      'optimizer state must start with an "iter" scalar, as getWeights() returns it',
    );
  }
  if ((weights.length - 1) % slots !== 0) {
    throw new KwsError(
      'INVALID_ARGUMENT',
      `optimizer state has ${weights.length - 1} slot tensors; expected a multiple of ${slots}`,
    );
  }
  const t = first.tensor.dataSync()[0] as number;
  if (!Number.isInteger(t) || t < 0) {
    throw new KwsError('INVALID_ARGUMENT', `optimizer state "iter" must be an integer >= 0; got ${t}`);
  }
  return t;
}

/** PyTorch SGD with momentum and L2 weight decay. */
class SgdOptimizer implements TrainingOptimizer {
  readonly name = 'sgd' as const;
  readonly slotsPerVariable = 1;
  learningRate: number;
  readonly weightDecay: number;
  private readonly momentum: number;
  private core: MomentumCore;
  private coreRate: number;

  constructor(learningRate: number, momentum: number, weightDecay: number) {
    this.learningRate = learningRate;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.core = new MomentumCore(learningRate, momentum);
    this.coreRate = learningRate;
  }

  get iterations(): number {
    return this.core.iterations;
  }

  applyGradients(variables: readonly tf.Variable[], grads: tf.NamedTensorMap): void {
    if (this.coreRate !== this.learningRate) {
      this.core.setLearningRate(this.learningRate);
      this.coreRate = this.learningRate;
    }
    const named: NamedTensor[] = [];
    const owned: tf.Tensor[] = [];
    for (const v of variables) {
      const g = grads[v.name];
      // tfjs skips a missing gradient (after creating its slot), keeping slots aligned by position.
      if (g === undefined) {
        named.push({ name: v.name, tensor: undefined as unknown as tf.Tensor });
        continue;
      }
      const d = tf.tidy(() => decayed(v, g, this.weightDecay));
      if (d !== g) owned.push(d);
      named.push({ name: v.name, tensor: d });
    }
    try {
      this.core.applyGradients(named);
    } finally {
      tf.dispose(owned);
    }
  }

  async getWeights(): Promise<NamedTensor[]> {
    const live = await this.core.getWeights();
    // `iter` is a fresh scalar; the slots are the optimizer's own variables, so copy those.
    return live.map((w, i) => ({ name: w.name, tensor: i === 0 ? w.tensor : tf.clone(w.tensor) }));
  }

  async setWeights(weights: readonly NamedTensor[]): Promise<void> {
    readIterations(weights, 1);
    // A fresh core, so slots from before are freed rather than orphaned by tfjs's setWeights.
    const core = new MomentumCore(this.learningRate, this.momentum);
    await core.setWeights(weights.map((w) => ({ name: w.name, tensor: w.tensor })));
    this.core.dispose();
    this.core = core;
    this.coreRate = this.learningRate;
  }

  dispose(): void {
    this.core.dispose();
  }
}

/** Adam with L2 decay in the gradient (PyTorch `Adam`) or decoupled decay (PyTorch `AdamW`). */
class AdamOptimizer implements TrainingOptimizer {
  readonly name: 'adam' | 'adamw';
  readonly slotsPerVariable = 2;
  learningRate: number;
  readonly weightDecay: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private step = 0;
  private m: tf.Variable[] = [];
  private v: tf.Variable[] = [];
  private slotNames: string[] = [];

  constructor(name: 'adam' | 'adamw', lr: number, wd: number, beta1: number, beta2: number, eps: number) {
    this.name = name;
    this.learningRate = lr;
    this.weightDecay = wd;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = eps;
  }

  get iterations(): number {
    return this.step;
  }

  applyGradients(variables: readonly tf.Variable[], grads: tf.NamedTensorMap): void {
    this.step += 1;
    const t = this.step;
    const lr = this.learningRate;
    const stepSize = lr / (1 - this.beta1 ** t);
    const sqrtBc2 = Math.sqrt(1 - this.beta2 ** t);
    variables.forEach((variable, i) => {
      if (this.m[i] === undefined) {
        this.m[i] = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        this.v[i] = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        this.slotNames[i] = variable.name;
      }
      const g = grads[variable.name];
      if (g === undefined) return;
      const m = this.m[i] as tf.Variable;
      const v = this.v[i] as tf.Variable;
      if (!tf.util.arraysEqual(m.shape, variable.shape)) {
        throw new KwsError(
          'SHAPE_MISMATCH',
          `optimizer slot ${i} has shape [${m.shape}] but variable ${variable.name} has [${variable.shape}]`,
        );
      }
      tf.tidy(() => {
        let w: tf.Tensor = variable;
        let grad: tf.Tensor = g;
        if (this.name === 'adamw') {
          if (this.weightDecay !== 0) w = tf.mul(variable, 1 - lr * this.weightDecay);
        } else {
          grad = decayed(variable, g, this.weightDecay);
        }
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(grad, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBc2), this.epsilon);
        m.assign(mNew);
        v.assign(vNew);
        variable.assign(tf.sub(w, tf.mul(tf.div(mNew, denom), stepSize)));
      });
    });
  }

  async getWeights(): Promise<NamedTensor[]> {
    return [
      { name: 'iter', tensor: tf.scalar(this.step, 'int32') },
      ...this.m.map((s, i) => ({ name: `${this.slotNames[i]}/m`, tensor: tf.clone(s) })),
      ...this.v.map((s, i) => ({ name: `${this.slotNames[i]}/v`, tensor: tf.clone(s) })),
    ];
  }

  async setWeights(weights: readonly NamedTensor[]): Promise<void> {
    const t = readIterations(weights, 2);
    const count = (weights.length - 1) / 2;
    const m = weights.slice(1, 1 + count);
    const v = weights.slice(1 + count);
    v.forEach((w, i) => {
      if (!tf.util.arraysEqual(w.tensor.shape, (m[i] as NamedTensor).tensor.shape)) {
        throw new KwsError(
          'INVALID_ARGUMENT',
          `optimizer state: ${w.name} and its first moment differ in shape`,
        );
      }
    });
    this.disposeSlots();
    this.step = t;
    this.m = m.map((w) => tf.variable(w.tensor, false));
    this.v = v.map((w) => tf.variable(w.tensor, false));
    this.slotNames = m.map((w) => w.name.replace(/\/m$/, ''));
  }

  private disposeSlots(): void {
    tf.dispose([...this.m, ...this.v]);
    this.m = [];
    this.v = [];
    this.slotNames = [];
  }

  dispose(): void {
    this.disposeSlots();
  }
}

/**
 * Creates an optimizer with PyTorch's update rule (see the module notes for the formulas).
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ optimizer: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3 });
 * const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
 * const { value, grads } = tf.variableGrads(lossFn, vars);
 * opt.learningRate = schedule(step);
 * opt.applyGradients(vars, grads);
 * ```
 * @throws {@link KwsError} `INVALID_ARGUMENT` for an unknown optimizer or an option out of range.
 */
export function createOptimizer(options?: OptimizerOptions): TrainingOptimizer {
  const o = checkOptions('options', options);
  const name = checkChoice('optimizer', o.optimizer ?? 'sgd', OPTIMIZER_NAMES);
  const lr = checkNumber('learningRate', o.learningRate ?? (name === 'sgd' ? 0.1 : 1e-3), 0);
  const weightDecay = checkNumber('weightDecay', o.weightDecay ?? 0, 0);
  if (name === 'sgd') {
    const momentum = checkNumber('momentum', o.momentum ?? 0.9, 0, 1);
    if (momentum === 1) throw new KwsError('INVALID_ARGUMENT', 'momentum must be < 1; got 1');
    return new SgdOptimizer(lr, momentum, weightDecay);
  }
  const beta1 = checkNumber('beta1', o.beta1 ?? 0.9, 0, 1);
  const beta2 = checkNumber('beta2', o.beta2 ?? 0.999, 0, 1);
  if (beta1 === 1 || beta2 === 1) {
    throw new KwsError('INVALID_ARGUMENT', `beta1 and beta2 must be < 1; got ${beta1} and ${beta2}`);
  }
  const epsilon = checkNumber('epsilon', o.epsilon ?? 1e-8, 0, Number.POSITIVE_INFINITY, true);
  return new AdamOptimizer(name, lr, weightDecay, beta1, beta2, epsilon);
}
