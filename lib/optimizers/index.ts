/**
 * Keras's optimizer names on tfjs 4.22, with Keras 3's defaults, and their state for checkpoints.
 *
 * Where tfjs's update rule differs from Keras's (read from tfjs-core 4.22's dist/optimizers and
 * keras/src/optimizers):
 *
 * - sgd with momentum: Keras keeps the velocity in parameter units (m ← μm − lr·g; x ← x + m), tfjs in
 *   gradient units scaled by the current rate (a ← μa + g; x ← x − lr·a); Nesterov likewise. Identical at
 *   a constant learning rate; when a schedule or ReduceLROnPlateau changes the rate, tfjs rescales the
 *   whole accumulated velocity at once, Keras only the new gradient's share.
 * - rmsprop: same rule (both take √(v + ε), ε inside the root). tfjs's default ε is the backend's
 *   (1e-7 on float32 backends, 1e-4 on float16 WebGL), so Keras's 1e-7 is passed explicitly. tfjs's
 *   `centered` variant subtracts ε where Keras adds it; Keras's default, and ours, is not centered.
 * - adam: tfjs adds ε to the bias-corrected √v̂ (lr·m̂/(√v̂ + ε)); Keras adds it to the raw √v
 *   (lr·√(1−β₂^t)/(1−β₁^t)·m/(√v + ε)), which in tfjs's form is ε/√(1−β₂^t): 31.6·ε at the first step,
 *   tending to ε. It matters only for gradients near 1e-6. `adamw` with weightDecay 0 is Keras's Adam exactly.
 *   tfjs's setWeights recomputes β^t with pow, which can be one float32 ulp off the running product its
 *   steps keep, so a resumed run would drift from an uninterrupted one; ResumableAdam restores the product.
 * - adamax: same rule; tfjs 4.22's Adamax throws on getWeights/setWeights, ResumableAdamax adds them.
 * - adagrad: same rule and initial accumulator (0.1). tfjs's ε is fixed to the backend's epsilon, which
 *   is Keras's 1e-7 on the float32 backends (cpu, wasm, tensorflow) and cannot be set.
 * - adadelta: tfjs divides by √(E[g²] + ε) of the previous step; Keras and Zeiler's paper by the one
 *   just updated with g. tfjs's first step is therefore lr·g where Keras's is about lr·√ε/√(1−ρ)·sign(g),
 *   some 700 times smaller for |g| = 1. KerasAdadelta applies Keras's rule on tfjs's slots.
 * - nadam, adamw: not in tfjs; ./nadam.ts and ./adamw.ts follow Keras 3's code.
 */
import * as tf from "@tensorflow/tfjs";
import { AdamWOptimizer } from "./adamw";
import { acceptOptimizerNames } from "./compile-names";
import { checkWeightCount, type NamedTensor, type Slot, toSlot, zeroSlot } from "./two-moments";
import { NadamOptimizer } from "./nadam";
import { OPTIMIZER_NAMES, type OptimizerName } from "../config/optimizers";

export { AdamWOptimizer, type AdamWArgs } from "./adamw";
export { NadamOptimizer, type NadamArgs } from "./nadam";
export { TwoMomentOptimizer } from "./two-moments";
export { OPTIMIZER_NAMES, type OptimizerName } from "../config/optimizers";

/** What the experiment config says about the optimizer; what it leaves out takes Keras's default. */
export interface OptimizerSpec {
  optimizer: OptimizerName;
  /** Step size (a schedule changes it later through setLearningRate); default Keras's for the name (KERAS_LEARNING_RATES). */
  learningRate?: number;
  /** Velocity decay in [0, 1] for "sgd" (0 = plain SGD, Keras's default) and "rmsprop"; must be 0 otherwise. Default 0. */
  momentum?: number;
  /** Nesterov momentum, "sgd" only (ignored at momentum 0, as Keras does). Default false. */
  nesterov?: boolean;
  /** Decoupled weight decay, "adamw" only; undefined or null (the config's default) = Keras's 0.004. */
  weightDecay?: number | null;
}

/** Keras 3's epsilon for every optimizer that has one. */
const KERAS_EPSILON = 1e-7;

/** Keras 3's default learning rate of each optimizer (keras/src/optimizers): 0.01 for SGD, 0.001 for the rest. */
export const KERAS_LEARNING_RATES: Readonly<Record<OptimizerName, number>> = {
  sgd: 0.01,
  rmsprop: 0.001,
  adam: 0.001,
  adamax: 0.001,
  adagrad: 0.001,
  adadelta: 0.001,
  nadam: 0.001,
  adamw: 0.001,
};

/**
 * The tfjs optimizer Keras would build for `spec`, with Keras 3's defaults for everything the spec does
 * not set (the learning rate, momentum 0, no Nesterov; β₁ 0.9, β₂ 0.999, ε 1e-7; RMSprop ρ 0.9; Adagrad initial
 * accumulator 0.1; Adadelta ρ 0.95). `createOptimizer({ optimizer: "nadam" })` is Keras's `optimizer="nadam"`.
 * Throws on a hyperparameter the chosen optimizer does not have rather than ignoring it.
 */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const { optimizer, momentum = 0, nesterov = false, weightDecay } = spec;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) {
    throw new Error(`optimizer: expected one of ${OPTIMIZER_NAMES.join(", ")}, got ${JSON.stringify(optimizer)}`);
  }
  const learningRate = spec.learningRate ?? KERAS_LEARNING_RATES[optimizer];
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new Error(`${optimizer}: learningRate must be a finite number > 0, got ${learningRate}`);
  }
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`${optimizer}: momentum must be in [0, 1], got ${momentum}`);
  if (momentum !== 0 && optimizer !== "sgd" && optimizer !== "rmsprop") {
    throw new Error(`${optimizer}: momentum applies only to sgd and rmsprop, got momentum ${momentum}; set it to 0`);
  }
  if (nesterov && optimizer !== "sgd") {
    throw new Error(`${optimizer}: nesterov applies only to sgd, got nesterov true; set it to false`);
  }
  if (weightDecay != null) {
    if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
      throw new Error(`${optimizer}: weightDecay must be a finite number >= 0, got ${weightDecay}`);
    }
    if (weightDecay !== 0 && optimizer !== "adamw") {
      throw new Error(
        `${optimizer}: weightDecay applies only to adamw here, got weightDecay ${weightDecay}; use optimizer adamw or leave it unset`,
      );
    }
  }
  switch (optimizer) {
    case "sgd":
      // Keras builds no velocity at momentum 0 and then ignores nesterov; tf.train.sgd is that.
      return momentum === 0 ? tf.train.sgd(learningRate) : tf.train.momentum(learningRate, momentum, nesterov);
    case "rmsprop":
      return tf.train.rmsprop(learningRate, 0.9, momentum, KERAS_EPSILON, false);
    case "adam":
      return new ResumableAdam(learningRate, 0.9, 0.999, KERAS_EPSILON);
    case "adamax":
      return new ResumableAdamax(learningRate, 0.9, 0.999, KERAS_EPSILON, 0);
    case "adagrad":
      return tf.train.adagrad(learningRate, 0.1);
    case "adadelta":
      return new KerasAdadelta(learningRate, 0.95, KERAS_EPSILON);
    case "nadam":
      return new NadamOptimizer({ learningRate });
    case "adamw":
      return new AdamWOptimizer({ learningRate, weightDecay: weightDecay ?? 0.004 });
  }
}

// `model.compile({ optimizer: "nadam" })` as in Keras: every name above, with Keras's defaults (see compile-names.ts).
acceptOptimizerNames(OPTIMIZER_NAMES, (name) => createOptimizer({ optimizer: name as OptimizerName }));

/** The step size `optimizer` uses next (tfjs keeps it in a protected field). */
export function learningRateOf(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof lr !== "number") throw new Error(`${optimizer.getClassName()}: has no learningRate to read`);
  return lr;
}

/**
 * Sets the step size of any optimizer above for the following steps. SGD and Momentum cache −lr in a
 * scalar tensor, so they go through their own setLearningRate; the others read the field every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!(Number.isFinite(learningRate) && learningRate >= 0)) {
    throw new Error(`${optimizer.getClassName()}: learningRate must be a finite number >= 0, got ${learningRate}`);
  }
  const o = optimizer as unknown as { learningRate?: unknown; setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === "function") o.setLearningRate(learningRate);
  else if (typeof o.learningRate === "number") o.learningRate = learningRate;
  else throw new Error(`${optimizer.getClassName()}: has no learningRate to set`);
}

/** One slot of an optimizer's state: a moment, accumulator or velocity for one model variable. */
export interface OptimizerSlot {
  /** tfjs's name for it, `<variable>/<slot>` (e.g. "dense/kernel/m"). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** An optimizer's state as plain data, for a checkpoint: everything its next step depends on besides the hyperparameters. */
export interface OptimizerState {
  /** getClassName() of the optimizer it came from; restoreOptimizer refuses another kind. */
  className: string;
  /** Steps taken so far (tfjs's `iter` weight, Keras's `optimizer.iterations`): the step a schedule reads. */
  iterations: number;
  /** Every slot in getWeights() order. */
  slots: OptimizerSlot[];
}

/** A copy of `optimizer`'s iteration count and slots that outlives it (no tensors are kept). */
export async function optimizerSlots(optimizer: tf.Optimizer): Promise<OptimizerState> {
  const weights = await optimizer.getWeights();
  const [iter, ...slots] = weights;
  try {
    if (iter?.name !== "iter") throw new Error(`${optimizer.getClassName()}: getWeights() does not start with the iteration count`);
    return {
      className: optimizer.getClassName(),
      iterations: (await iter.tensor.data())[0]!,
      slots: await Promise.all(
        slots.map(async (s) => {
          if (s.tensor.dtype !== "float32") {
            throw new Error(`${optimizer.getClassName()}: slot ${s.name} is ${s.tensor.dtype}, expected float32`);
          }
          return { name: s.name, shape: [...s.tensor.shape], values: (await s.tensor.data()) as Float32Array };
        }),
      ),
    };
  } finally {
    // Only the iteration scalar is new; the slots are the optimizer's live variables.
    iter?.tensor.dispose();
  }
}

/**
 * Puts `state` (from optimizerSlots) back into `optimizer`, which must be of the same kind and have the
 * same hyperparameters; its next step then equals the saved optimizer's next step. Slot variables the
 * optimizer held before are disposed (tfjs's own setWeights would leave them allocated).
 */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  if (state.className !== optimizer.getClassName()) {
    throw new Error(`restoreOptimizer: the state is ${state.className}'s, the optimizer is ${optimizer.getClassName()}`);
  }
  if (!(Number.isInteger(state.iterations) && state.iterations >= 0)) {
    throw new Error(`restoreOptimizer: iterations must be a whole number >= 0, got ${state.iterations}`);
  }
  for (const s of state.slots) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (size !== s.values.length) {
      throw new Error(`restoreOptimizer: slot ${s.name} has ${s.values.length} values for shape [${s.shape.join(", ")}] (${size})`);
    }
  }
  const before = await optimizer.getWeights();
  const weights: NamedTensor[] = [
    { name: "iter", tensor: tf.scalar(state.iterations, "int32") },
    ...state.slots.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, "float32") })),
  ];
  try {
    await optimizer.setWeights(weights);
  } finally {
    // setWeights made variables holding their own references, so the inputs can go.
    tf.dispose(weights.map((w) => w.tensor));
  }
  // tfjs's optimizers drop their old slot variables without disposing them; free the ones no longer held.
  const after = await optimizer.getWeights();
  const held = new Set<tf.Tensor>(after.slice(1).map((w) => w.tensor));
  for (const w of [...before, after[0]!]) if (!held.has(w.tensor) && !w.tensor.isDisposed) w.tensor.dispose();
}

/** β^(n+1) as tfjs's Adam and Adamax carry it after n steps: β, then one float32 multiply by β per step. */
function float32Power(beta: number, steps: number): number {
  const b = Math.fround(beta);
  let power = b;
  for (let i = 0; i < steps; i++) power = Math.fround(power * b);
  return power;
}

/** tfjs 4.22 AdamOptimizer's private fields, read to restore what its setWeights gets slightly wrong. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

/** tfjs's Adam whose setWeights continues bit for bit (see the header) and frees the slots it replaces. */
class ResumableAdam extends tf.AdamOptimizer {
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const self = this as unknown as AdamInternals;
    const old = [...self.accumulatedFirstMoment, ...self.accumulatedSecondMoment].map((s) => s.variable);
    await super.setWeights(weightValues);
    tf.dispose(old);
    tf.tidy(() => {
      self.accBeta1.assign(tf.scalar(float32Power(this.beta1, this.iterations)));
      self.accBeta2.assign(tf.scalar(float32Power(this.beta2, this.iterations)));
    });
  }
}

/** tfjs 4.22 AdamaxOptimizer's private fields. */
interface AdamaxInternals {
  accBeta1: tf.Variable;
  iteration: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedWeightedInfNorm: Slot[];
}

/** tfjs's Adamax with the getWeights/setWeights it lacks, in Adam's layout: [iter, …m, …u]. */
class ResumableAdamax extends tf.AdamaxOptimizer {
  override async getWeights(): Promise<NamedTensor[]> {
    const self = this as unknown as AdamaxInternals;
    const slots = [...self.accumulatedFirstMoment, ...self.accumulatedWeightedInfNorm];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const self = this as unknown as AdamaxInternals;
    const slots = await this.extractIterations(checkWeightCount("Adamax", weightValues));
    tf.dispose([...self.accumulatedFirstMoment, ...self.accumulatedWeightedInfNorm].map((s) => s.variable));
    const half = slots.length / 2;
    self.accumulatedFirstMoment = slots.slice(0, half).map(toSlot);
    self.accumulatedWeightedInfNorm = slots.slice(half).map(toSlot);
    tf.tidy(() => {
      self.iteration.assign(tf.scalar(this.iterations));
      self.accBeta1.assign(tf.scalar(float32Power(this.beta1, this.iterations)));
    });
  }
}

/** tfjs 4.22 AdadeltaOptimizer's private slot lists (its getWeights/setWeights keep working on them). */
interface AdadeltaInternals {
  accumulatedGrads: Slot[];
  accumulatedUpdates: Slot[];
}

/**
 * tfjs's Adadelta with Keras's update (keras/src/optimizers/adadelta.py), ρ and ε as in Zeiler 2012:
 *   E[g²] ← ρE[g²] + (1−ρ)g²      Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)
 *   E[Δ²] ← ρE[Δ²] + (1−ρ)Δ²      x ← x + lr·Δ
 * tfjs uses E[g²] from before this step in Δ's denominator.
 */
export class KerasAdadelta extends tf.AdadeltaOptimizer {
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const self = this as unknown as AdadeltaInternals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value == null) throw new Error(`Adadelta: no variable named "${name}" is registered`);
        self.accumulatedGrads[i] ??= zeroSlot(value, `${name}/accum_grad`);
        self.accumulatedUpdates[i] ??= zeroSlot(value, `${name}/accum_var`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const accumulatedGrad = self.accumulatedGrads[i]!.variable;
        const accumulatedUpdate = self.accumulatedUpdates[i]!.variable;
        const newGrad = tf.add(tf.mul(accumulatedGrad, this.rho), tf.mul(tf.square(gradient), 1 - this.rho));
        const rms = (x: tf.Tensor): tf.Tensor => tf.sqrt(tf.add(x, this.epsilon));
        const delta = tf.neg(tf.div(tf.mul(rms(accumulatedUpdate), gradient), rms(newGrad)));
        const newUpdate = tf.add(tf.mul(accumulatedUpdate, this.rho), tf.mul(tf.square(delta), 1 - this.rho));
        accumulatedGrad.assign(newGrad);
        accumulatedUpdate.assign(newUpdate);
        value.assign(tf.add(value, tf.mul(delta, this.learningRate)));
      });
    });
    this.incrementIterations();
  }
}

/** An optimizer as a run folder records it: tfjs's getClassName() and getConfig(), and the JS class that ran. */
export interface SavedOptimizer {
  className: string;
  config: tf.serialization.ConfigDict;
  /** constructor.name, e.g. "KerasAdadelta": tells Keras's Adadelta rule from tfjs's, which share a className. */
  implementation?: string;
}

/**
 * Rebuilds a saved optimizer with its hyperparameters. Adam and Adamax come back as this module's resumable
 * subclasses (tfjs's update rule, a setWeights that continues bit for bit); other classes from tfjs's registry.
 */
export function optimizerFromConfig(saved: SavedOptimizer): tf.Optimizer {
  const c = saved.config as Record<string, number>;
  if (saved.className === "Adam") return new ResumableAdam(c.learningRate!, c.beta1!, c.beta2!, c.epsilon);
  if (saved.className === "Adamax") return new ResumableAdamax(c.learningRate!, c.beta1!, c.beta2!, c.epsilon, c.decay);
  if (saved.implementation === KerasAdadelta.name) return new KerasAdadelta(c.learningRate!, c.rho!, c.epsilon);
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[saved.className];
  if (!registered) {
    throw new Error(`optimizer class "${saved.className}" is not registered with tf.serialization; register it before loading the run`);
  }
  const [ctor, fromConfig] = registered;
  return fromConfig(ctor, saved.config) as tf.Optimizer;
}
