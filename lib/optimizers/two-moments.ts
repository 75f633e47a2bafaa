import * as tf from "@tensorflow/tfjs";
import {
  checkLearningRate,
  type NamedTensor,
  type OptimizerVariables,
  type OwnsVariables,
  restoreWeights,
  type Slot,
  type SlotKind,
  slotIn,
  snapshotWeights,
  type UpdateRule,
} from "./state";
import { UserError } from "../errors/user-error";

/*
 * What Adam's Keras 3 relatives written here (AdamW, Nadam) share: a first and a second moment per variable,
 * kept per position in the gradient list like tfjs's own optimizers, with tfjs's getWeights layout
 * ([iter, …m, …v]) so a layers model saves them with `includeOptimizer` and a checkpoint restores them.
 * Each subclass says only how a step turns the new moments into the variable's new value, and which update rule
 * the native engine runs for it. They own their state, so they answer OptimizerVariables themselves (ownVariables).
 */

/** Their m and v, tfjs's suffixes. */
const MOMENTS: readonly SlotKind[] = [{ suffix: "m" }, { suffix: "v" }];

/** The hyperparameters every two-moment optimizer has; each defaults to Keras 3's. */
export interface TwoMomentArgs {
  /** Step size; Keras's default 0.001. */
  learningRate?: number;
  /** Decay rate of the first-moment (momentum) average; Keras's default 0.9. */
  beta1?: number;
  /** Decay rate of the second-moment average; Keras's default 0.999. */
  beta2?: number;
  /** Added to the root of the second moment so a near-zero one cannot blow the step up; Keras's default 1e-7. */
  epsilon?: number;
}

export abstract class TwoMomentOptimizer<Scalars> extends tf.Optimizer implements OwnsVariables {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  // The native step updates these slot variables in place, through ownVariables().
  protected firstMoments: (Slot | undefined)[] = [];
  protected secondMoments: (Slot | undefined)[] = [];

  constructor(args: TwoMomentArgs) {
    super();
    this.learningRate = args.learningRate ?? 0.001;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    checkHyperparameters(this.getClassName(), this);
  }

  /** Changes the step size for the following steps (a learning-rate schedule calls this). */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /**
   * The next step's scalars, computed once per step in JS (float64) from the iteration count; the native step
   * (lib/engine/native) hands the same numbers to its own update of these moments.
   */
  abstract stepScalars(): Scalars;
  /** The update rule the native engine runs for the next step (with stepScalars()'s numbers). */
  protected abstract updateRule(): UpdateRule;
  /** The variable's value after this step, from the moments already moved to `m` and `v`. */
  protected abstract nextValue(value: tf.Tensor, gradient: tf.Tensor, m: tf.Tensor, v: tf.Tensor, scalars: Scalars): tf.Tensor;
  /** Called after each step with its scalars (Nadam advances its momentum product). */
  protected stepped(_scalars: Scalars): void {}
  /** Called after setWeights restored the iteration count (Nadam recomputes its momentum product). */
  protected restored(): void {}

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const scalars = this.stepScalars();
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value == null) throw new Error(`${this.getClassName()}: no variable named "${name}" is registered`);
        this.firstMoments[i] ??= zeroSlot(value, `${name}/m`);
        this.secondMoments[i] ??= zeroSlot(value, `${name}/v`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = this.firstMoments[i]!.variable;
        const v = this.secondMoments[i]!.variable;
        // m ← m + (g - m)(1 - β₁), v ← v + (g² - v)(1 - β₂): Keras 3's form of the moving averages.
        const newM = tf.add(m, tf.mul(tf.sub(gradient, m), 1 - this.beta1));
        const newV = tf.add(v, tf.mul(tf.sub(tf.square(gradient), v), 1 - this.beta2));
        const next = this.nextValue(value, gradient, newM, newV, scalars);
        m.assign(newM);
        v.assign(newV);
        value.assign(next);
      });
    });
    this.countStep(scalars);
  }

  /**
   * Counts a step whose update was applied to the moments and variables elsewhere (the native step, in place),
   * advancing the iteration count and any state as applyGradients does; `scalars` are the ones that step used.
   */
  countStep(scalars: Scalars = this.stepScalars()): void {
    this.stepped(scalars);
    this.incrementIterations();
  }

  /** This optimizer's state, for the native engine, checkpoints and schedules (./state.ts). */
  ownVariables(): OptimizerVariables {
    const className = this.getClassName();
    return {
      className,
      learningRate: () => this.learningRate,
      setLearningRate: (learningRate) => {
        checkLearningRate(className, learningRate);
        this.setLearningRate(learningRate);
      },
      iterations: () => this.iterations,
      countStep: () => this.countStep(),
      snapshot: () => snapshotWeights(this),
      restore: (state) => restoreWeights(this, state),
      inPlace: {
        slotKinds: MOMENTS,
        // The lists are read at each call: setWeights replaces them.
        slot: (kind, index, variable) =>
          slotIn(kind === 0 ? this.firstMoments : this.secondMoments, index, MOMENTS[kind]!, variable, className),
        currentSlot: (kind, index) => (kind === 0 ? this.firstMoments : this.secondMoments)[index]?.variable,
        stepVariableCount: 0,
        stepVariable: (i) => {
          throw new Error(`${className}: keeps no step variables (asked for ${i}); its step scalars are JS numbers`);
        },
        rule: () => this.updateRule(),
      },
    };
  }

  override dispose(): void {
    tf.dispose(this.slots().map((s) => s.variable));
    this.firstMoments = [];
    this.secondMoments = [];
    super.dispose();
  }

  /**
   * [iter, …m, …v] as tfjs's Adam lays them out. The slot tensors are the live variables (tfjs's
   * convention): read or copy them, do not dispose them. The `iter` scalar is new; its caller owns it.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations(), ...this.slots().map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  /** Restores what getWeights() returned; the next step continues exactly where that optimizer was. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(checkWeightCount(this.getClassName(), weightValues));
    tf.dispose(this.slots().map((s) => s.variable));
    const half = slots.length / 2;
    this.firstMoments = slots.slice(0, half).map(toSlot);
    this.secondMoments = slots.slice(half).map(toSlot);
    this.restored();
  }

  /** Every slot that exists, m then v (the native engine creates a variable's slots only as it binds them). */
  private slots(): Slot[] {
    return [...this.firstMoments, ...this.secondMoments].filter((s): s is Slot => s !== undefined);
  }
}

export function zeroSlot(value: tf.Variable, originalName: string): Slot {
  // tidy frees the zeros tensor; the variable holds its own reference to the data.
  return { originalName, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
}

/** A slot backed by a restored weight; the variable takes its own reference, so the caller may dispose the weight. */
export function toSlot(weight: NamedTensor): Slot {
  return { originalName: weight.name, variable: weight.tensor.variable(false) };
}

/** Throws unless the weights are an iteration count followed by an m and a v slot per variable. */
export function checkWeightCount(optimizer: string, weights: NamedTensor[]): NamedTensor[] {
  if (weights.length === 0 || (weights.length - 1) % 2 !== 0) {
    throw new UserError(
      `${optimizer}.setWeights: expected the iteration count then an m and a v slot per variable ` +
        `(an odd count), got ${weights.length} weights`,
    );
  }
  return weights;
}

/** Throws on a hyperparameter outside Keras's range, naming it and its value. */
function checkHyperparameters(optimizer: string, h: { learningRate: number; beta1: number; beta2: number; epsilon: number }): void {
  const check = (name: string, value: number, ok: boolean, expected: string): void => {
    if (!ok) throw new UserError(`${optimizer}: ${name} must be ${expected}, got ${value}`);
  };
  check("learningRate", h.learningRate, Number.isFinite(h.learningRate) && h.learningRate >= 0, "a finite number >= 0");
  check("beta1", h.beta1, h.beta1 >= 0 && h.beta1 < 1, "in [0, 1)");
  check("beta2", h.beta2, h.beta2 >= 0 && h.beta2 < 1, "in [0, 1)");
  check("epsilon", h.epsilon, Number.isFinite(h.epsilon) && h.epsilon >= 0, "a finite number >= 0");
}
