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
 *   tending to ε. Checked against Keras it moved weights 3e-3 apart in 24 steps, so "adam" is ./adam.ts's
 *   KerasAdam (Keras's rule, AdamW's code without decay). tfjs's Adam stays for runs saved with it:
 *   its setWeights recomputes β^t with pow, which can be one float32 ulp off the running product its
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
import { KERAS_LEARNING_RATES, OPTIMIZER_NAMES, type OptimizerName } from "../config/optimizers";
import { KerasAdam } from "./adam";
import { AdamWOptimizer } from "./adamw";
import { acceptOptimizerNames } from "./compile-names";
import { NadamOptimizer } from "./nadam";
import { type OptimizerVariables, ownsVariables } from "./state";
import { KerasAdadelta, ResumableAdam, ResumableAdamax, tfjsOptimizerVariables } from "./tfjs-internals";
import { UserError } from "../errors/user-error";

export { KERAS_LEARNING_RATES, OPTIMIZER_NAMES, type OptimizerName } from "../config/optimizers";
export { AdamWOptimizer } from "./adamw";
export { NadamOptimizer } from "./nadam";
export type { InPlaceUpdate, OptimizerState, OptimizerVariables, UpdateRule } from "./state";

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

/**
 * The tfjs optimizer Keras would build for `spec`, with Keras 3's defaults for everything the spec does
 * not set (the learning rate, momentum 0, no Nesterov; β₁ 0.9, β₂ 0.999, ε 1e-7; RMSprop ρ 0.9; Adagrad initial
 * accumulator 0.1; Adadelta ρ 0.95). `createOptimizer({ optimizer: "nadam" })` is Keras's `optimizer="nadam"`.
 * Throws on a hyperparameter the chosen optimizer does not have rather than ignoring it.
 */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const { optimizer, momentum = 0, nesterov = false, weightDecay } = spec;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) {
    throw new UserError(`optimizer: expected one of ${OPTIMIZER_NAMES.join(", ")}, got ${JSON.stringify(optimizer)}`);
  }
  const learningRate = spec.learningRate ?? KERAS_LEARNING_RATES[optimizer];
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new UserError(`${optimizer}: learningRate must be a finite number > 0, got ${learningRate}`);
  }
  if (!(momentum >= 0 && momentum <= 1)) throw new UserError(`${optimizer}: momentum must be in [0, 1], got ${momentum}`);
  if (momentum !== 0 && optimizer !== "sgd" && optimizer !== "rmsprop") {
    throw new UserError(`${optimizer}: momentum applies only to sgd and rmsprop, got momentum ${momentum}; set it to 0`);
  }
  if (nesterov && optimizer !== "sgd") {
    throw new UserError(`${optimizer}: nesterov applies only to sgd, got nesterov true; set it to false`);
  }
  if (weightDecay != null) {
    if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
      throw new UserError(`${optimizer}: weightDecay must be a finite number >= 0, got ${weightDecay}`);
    }
    if (weightDecay !== 0 && optimizer !== "adamw") {
      throw new UserError(
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
      return new KerasAdam({ learningRate });
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

/**
 * What `optimizer` answers about its state (slots, step scalars, iteration count, learning rate), as Keras's
 * optimizers own their variables: the project's own optimizers answer themselves, tfjs's through
 * ./tfjs-internals.ts, which checks the tfjs version first (TfjsVersionError on another).
 */
export function optimizerVariables(optimizer: tf.Optimizer): OptimizerVariables {
  return ownsVariables(optimizer) ? optimizer.ownVariables() : tfjsOptimizerVariables(optimizer);
}

/** The step size `optimizer` uses next. */
export function learningRateOf(optimizer: tf.Optimizer): number {
  return optimizerVariables(optimizer).learningRate();
}

/** Sets the step size of any optimizer above for the following steps. */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  optimizerVariables(optimizer).setLearningRate(learningRate);
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
  if (saved.className === "Adam") {
    const { learningRate, beta1, beta2, epsilon } = c;
    // Runs saved before "adam" meant KerasAdam ran tfjs's Adam and keep it, so a resume continues the same rule.
    if (saved.implementation === KerasAdam.name) return new KerasAdam({ learningRate, beta1, beta2, epsilon });
    return new ResumableAdam(learningRate!, beta1!, beta2!, epsilon);
  }
  if (saved.className === "Adamax") return new ResumableAdamax(c.learningRate!, c.beta1!, c.beta2!, c.epsilon, c.decay);
  if (saved.implementation === KerasAdadelta.name) return new KerasAdadelta(c.learningRate!, c.rho!, c.epsilon);
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[saved.className];
  if (!registered) {
    throw new UserError(`optimizer class "${saved.className}" is not registered with tf.serialization; register it before loading the run`);
  }
  const [ctor, fromConfig] = registered;
  return fromConfig(ctor, saved.config) as tf.Optimizer;
}
