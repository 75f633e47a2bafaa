import * as tf from "@tensorflow/tfjs";
import { UserError } from "../errors/user-error";

/*
 * The one interface to an optimizer's state, as Keras has it: each optimizer owns its variables (slots built on
 * the first step, optimizer-wide scalars, the iteration count) and everything else asks the optimizer. The native
 * engine updates the slots in place through it, checkpoints and resume save and restore them through it, and the
 * learning-rate schedules set the rate through it. The project's own optimizers (./two-moments.ts) answer for
 * themselves; tfjs's are answered by ./tfjs-internals.ts, the only module that knows their private fields.
 */

/** tfjs's { name, tensor } pair of getWeights/applyGradients (tfjs-core does not export the type). */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer["getWeights"]>>[number];

/** A slot variable and the name tfjs's getWeights gives it (`<variable>/m`), as tfjs's own optimizers keep them. */
export interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** One kind of per-variable slot: tfjs's name suffix (`<variable>/<suffix>`) and the value a new slot starts at. */
export interface SlotKind {
  suffix: string;
  /** Adagrad's initialAccumulatorValue; default 0. */
  initial?: number;
}

/**
 * An update rule and the numbers its next step uses, as the native trainer (native/src) applies it. Optimizers
 * whose scalars depend on the step (Nadam, AdamW) compute them for the next step in JS, as their own step does.
 */
export interface UpdateRule {
  kind: "sgd" | "momentum" | "adam" | "rmsprop" | "nadam" | "adamw" | "adamax" | "adagrad" | "adadelta";
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  /** Adagrad: the backend's epsilon (tfjs's Adagrad uses no other). */
  epsilon?: number;
  /** RMSProp's decay (Keras's rho); Adamax's learning-rate decay per iteration (tfjs's `decay`). */
  decay?: number;
  centered?: boolean;
  /** Adadelta's decay of its two running averages. */
  rho?: number;
  /** AdamW's decoupled weight decay (the step shrinks weights by learningRate·weightDecay). */
  weightDecay?: number;
  /** AdamW's step size this step, lr·√(1 − β₂^t)/(1 − β₁^t), computed as AdamWOptimizer computes it. */
  alpha?: number;
  /** Nadam's weights of m and g in m̂ and its 1 − β₂^t this step, computed as NadamOptimizer computes them. */
  momentumWeight?: number;
  gradientWeight?: number;
  secondMomentCorrection?: number;
}

/** How another engine may run an optimizer's update on the optimizer's own variables, in place. */
export interface InPlaceUpdate {
  /** Slot kinds in getWeights() order. */
  readonly slotKinds: readonly SlotKind[];
  /**
   * Variable `index`'s slot of kind `kind` (an index into slotKinds), created as the optimizer's first step
   * would create it (Keras's build) when missing. Slots pair with variables by position in the gradient list;
   * a slot of another shape than `variable` is refused.
   */
  slot(kind: number, index: number, variable: tf.Variable): tf.Variable;
  /** The same slot as the optimizer holds it now, or undefined (setWeights replaces slot variables). */
  currentSlot(kind: number, index: number): tf.Variable | undefined;
  /** Optimizer-wide scalar variables the update reads and advances (Adam's β₁^t and β₂^t), in a fixed order. */
  readonly stepVariableCount: number;
  stepVariable(i: number): tf.Variable;
  /** The rule and its numbers for the next step (a schedule may have changed the rate since). */
  rule(): UpdateRule;
}

/** One slot of an optimizer's state as plain data: a moment, accumulator or velocity for one model variable. */
export interface OptimizerSlot {
  /** tfjs's name for it, `<variable>/<slot>` (e.g. "dense/kernel/m"). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** An optimizer's state as plain data, for a checkpoint: everything its next step depends on besides the hyperparameters. */
export interface OptimizerState {
  /** getClassName() of the optimizer it came from; restore refuses another kind. */
  className: string;
  /** Steps taken so far (tfjs's `iter` weight, Keras's `optimizer.iterations`): the step a schedule reads. */
  iterations: number;
  /** Every slot in getWeights() order. */
  slots: OptimizerSlot[];
}

/** What an optimizer answers about its own state. Get it with optimizerVariables(optimizer) (./index.ts). */
export interface OptimizerVariables {
  readonly className: string;
  /** The step size the next step uses. */
  learningRate(): number;
  /** Sets the step size for the following steps (a schedule, ReduceLROnPlateau, the learning-rate finder). */
  setLearningRate(learningRate: number): void;
  /** Steps taken so far (Keras's optimizer.iterations). */
  iterations(): number;
  /** Counts a step whose update was applied elsewhere (the native engine), advancing what the optimizer's own step would. */
  countStep(): void;
  /** A copy of the iteration count and every slot that outlives the optimizer (no tensors kept). */
  snapshot(): Promise<OptimizerState>;
  /** Puts a snapshot of an optimizer of the same kind and hyperparameters back: the next step continues it exactly. */
  restore(state: OptimizerState): Promise<void>;
  /** How the native engine may run this optimizer's update in place, or the sentence saying why it may not. */
  readonly inPlace: InPlaceUpdate | string;
}

/** An optimizer that answers for its own state (the project's own classes). */
export interface OwnsVariables {
  ownVariables(): OptimizerVariables;
}

export function ownsVariables(optimizer: tf.Optimizer): optimizer is tf.Optimizer & OwnsVariables {
  return typeof (optimizer as Partial<OwnsVariables>).ownVariables === "function";
}

/** Throws unless `learningRate` can be a step size. */
export function checkLearningRate(className: string, learningRate: number): void {
  if (!(Number.isFinite(learningRate) && learningRate >= 0)) {
    throw new UserError(`${className}: learningRate must be a finite number >= 0, got ${learningRate}`);
  }
}

/**
 * Slot `index` of `list`, created when missing as tfjs creates one on its first applyGradients: zeros (or the
 * kind's initial value), not trainable, named "<variable>/<suffix>". A slot of another shape is refused: the
 * state belongs to another model or variable order (a checkpoint restored into a model whose variables got other
 * names still lines up by position).
 */
export function slotIn(list: (Slot | undefined)[], index: number, kind: SlotKind, variable: tf.Variable, className: string): tf.Variable {
  const entry = list[index] ?? {
    originalName: `${variable.name}/${kind.suffix}`,
    variable: tf.tidy(() => (kind.initial ? tf.fill(variable.shape, kind.initial) : tf.zerosLike(variable)).variable(false)),
  };
  list[index] = entry;
  if (!tf.util.arraysEqual(entry.variable.shape, variable.shape)) {
    throw new UserError(
      `${className}: slot ${index} (${entry.originalName}) has shape [${entry.variable.shape.join(", ")}], ` +
        `variable ${index} (${variable.name}) is [${variable.shape.join(", ")}]; the optimizer's state belongs to another model or variable order`,
    );
  }
  return entry.variable;
}

/** An optimizer's iteration count and slots through its public getWeights(), as plain data. */
export async function snapshotWeights(optimizer: tf.Optimizer): Promise<OptimizerState> {
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
 * Puts `state` back through the optimizer's public setWeights(), after checking it fits. Slot variables the
 * optimizer held before are disposed (tfjs's own setWeights would leave them allocated).
 */
export async function restoreWeights(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  checkState(optimizer.getClassName(), state);
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

function checkState(className: string, state: OptimizerState): void {
  if (state.className !== className) {
    throw new UserError(`optimizer restore: the state is ${state.className}'s, the optimizer is ${className}`);
  }
  if (!(Number.isInteger(state.iterations) && state.iterations >= 0)) {
    throw new UserError(`optimizer restore: iterations must be a whole number >= 0, got ${state.iterations}`);
  }
  for (const s of state.slots) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (size !== s.values.length) {
      throw new UserError(`optimizer restore: slot ${s.name} has ${s.values.length} values for shape [${s.shape.join(", ")}] (${size})`);
    }
  }
}
