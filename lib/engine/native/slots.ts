import * as tf from "@tensorflow/tfjs";
import { AdamWOptimizer, KerasAdadelta, NadamOptimizer, TwoMomentOptimizer } from "../../optimizers";
import type { TrainerOptimizerSpec } from "./addon";

/*
 * The tfjs optimizers the fused step can stand in for, and where each keeps its state. The trainer
 * updates the optimizer's *own* slot variables in place (tfjs-core 4.22's field and slot names), so
 * optimizer.getWeights()/setWeights(), and with them checkpoints, see exactly what a tfjs step would
 * have left.
 */

/** One kind of per-variable slot: the optimizer's array field and tfjs's name suffix ("<variable>/<suffix>"). */
export interface SlotKind {
  field: string;
  suffix: string;
  /** The value tfjs fills a new slot with (Adagrad's initialAccumulatorValue); default 0. */
  initial?: number;
}

export interface OptimizerPlan {
  /** Slot kinds in getWeights() order (the trainer's slot order). */
  slots: SlotKind[];
  /**
   * Fields holding optimizer-wide scalar variables (Adam's running β^t, Adamax's iteration and β₁^t).
   * Nadam and AdamW keep theirs in JS numbers: read() passes this step's constants, countStep advances.
   */
  state: string[];
  /** The hyper-parameters as the optimizer holds them now (a schedule may change the learning rate). */
  read(): TrainerOptimizerSpec;
}

/** A slot entry as tfjs's optimizers keep them. */
export interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

type Fields = Record<string, unknown>;

/** The plan for `optimizer`, or why the fused step does not cover it. */
export function planOptimizer(optimizer: tf.Optimizer | undefined): OptimizerPlan | string {
  if (!optimizer) return "the model is not compiled";
  const o = optimizer as unknown as Fields;
  const name = optimizer.getClassName();
  const lr = () => o.learningRate as number;
  switch (name) {
    case "SGD":
      return { slots: [], state: [], read: () => ({ kind: "sgd", learningRate: lr() }) };
    case "Momentum":
      return {
        slots: [{ field: "accumulations", suffix: "momentum" }],
        state: [],
        read: () => ({ kind: "momentum", learningRate: lr(), momentum: o.momentum as number, nesterov: Boolean(o.useNesterov) }),
      };
    case "Adam":
      if (!isA(optimizer, tf.AdamOptimizer)) break;
      return {
        slots: [
          { field: "accumulatedFirstMoment", suffix: "m" },
          { field: "accumulatedSecondMoment", suffix: "v" },
        ],
        state: ["accBeta1", "accBeta2"],
        read: () => ({
          kind: "adam",
          learningRate: lr(),
          beta1: o.beta1 as number,
          beta2: o.beta2 as number,
          epsilon: o.epsilon as number,
        }),
      };
    case "RMSProp": {
      if (!isA(optimizer, tf.RMSPropOptimizer)) break;
      const centered = Boolean(o.centered);
      return {
        slots: [
          { field: "accumulatedMeanSquares", suffix: "rms" },
          { field: "accumulatedMoments", suffix: "momentum" },
          ...(centered ? [{ field: "accumulatedMeanGrads", suffix: "mg" }] : []),
        ],
        state: [],
        read: () => ({
          kind: "rmsprop",
          learningRate: lr(),
          decay: o.decay as number,
          momentum: o.momentum as number,
          epsilon: o.epsilon as number,
          centered,
        }),
      };
    }
    case "Nadam":
      if (!isA(optimizer, NadamOptimizer)) break;
      return {
        slots: MOMENTS,
        state: [],
        read: () => {
          const step = optimizer.stepScalars();
          return {
            kind: "nadam",
            learningRate: optimizer.learningRate,
            beta1: optimizer.beta1,
            beta2: optimizer.beta2,
            epsilon: optimizer.epsilon,
            momentumWeight: step.momentumWeight,
            gradientWeight: step.gradientWeight,
            secondMomentCorrection: step.secondMomentCorrection,
          };
        },
      };
    case "AdamW":
      if (!isA(optimizer, AdamWOptimizer)) break;
      return {
        slots: MOMENTS,
        state: [],
        read: () => ({
          kind: "adamw",
          learningRate: optimizer.learningRate,
          beta1: optimizer.beta1,
          beta2: optimizer.beta2,
          epsilon: optimizer.epsilon,
          weightDecay: optimizer.weightDecay,
          alpha: optimizer.stepScalars().alpha,
        }),
      };
    case "Adamax":
      if (!isA(optimizer, tf.AdamaxOptimizer)) break;
      return {
        slots: [
          { field: "accumulatedFirstMoment", suffix: "m" },
          { field: "accumulatedWeightedInfNorm", suffix: "v" },
        ],
        state: ["iteration", "accBeta1"],
        read: () => ({
          kind: "adamax",
          learningRate: lr(),
          beta1: o.beta1 as number,
          beta2: o.beta2 as number,
          epsilon: o.epsilon as number,
          decay: o.decay as number,
        }),
      };
    case "Adagrad":
      if (!isA(optimizer, tf.AdagradOptimizer)) break;
      return {
        slots: [{ field: "accumulatedGrads", suffix: "accumulator", initial: o.initialAccumulatorValue as number }],
        state: [],
        // tfjs's Adagrad takes ε from the backend at each step.
        read: () => ({ kind: "adagrad", learningRate: lr(), epsilon: tf.backend().epsilon() }),
      };
    case "Adadelta":
      if (!isA(optimizer, KerasAdadelta))
        return "tfjs's own Adadelta (E[g²] of the previous step in the denominator) is not covered by the native step; createOptimizer's Keras Adadelta is";
      return {
        slots: [
          { field: "accumulatedGrads", suffix: "accum_grad" },
          { field: "accumulatedUpdates", suffix: "accum_var" },
        ],
        state: [],
        read: () => ({ kind: "adadelta", learningRate: lr(), rho: o.rho as number, epsilon: o.epsilon as number }),
      };
  }
  return `optimizer ${name} is not covered by the native step (SGD, Momentum, Adam, RMSProp, Nadam, AdamW, Adamax, Adagrad and Keras's Adadelta are)`;
}

/**
 * Whether `optimizer` is a `cls` (or a subclass). Not instanceof: tfjs's Optimizer defines
 * Symbol.hasInstance as "has minimize, computeGradients and applyGradients", which every optimizer has.
 */
function isA<T extends object>(optimizer: tf.Optimizer, cls: abstract new (...args: never[]) => T): optimizer is tf.Optimizer & T {
  return Object.prototype.isPrototypeOf.call(cls.prototype, optimizer);
}

/** Nadam's and AdamW's m and v (lib/train/optimizers' field names, tfjs's suffixes). */
const MOMENTS: SlotKind[] = [
  { field: "firstMoments", suffix: "m" },
  { field: "secondMoments", suffix: "v" },
];

/**
 * Variable `index`'s slot of `kind`. tfjs pairs slots with variables by position in the gradient list
 * (model.fit's is trainableWeights order), not by name, so a checkpoint restored into a model whose
 * variables got other names still lines up; the shape is checked instead. A missing slot is created as
 * tfjs creates it on its first applyGradients: zeros (Adagrad: its initial value), not trainable, named
 * "<variable>/<suffix>".
 */
export function slotVariable(optimizer: tf.Optimizer, kind: SlotKind, index: number, variable: tf.Variable): tf.Variable {
  const fields = optimizer as unknown as Fields;
  if (!fields[kind.field]) fields[kind.field] = [];
  const list = fields[kind.field] as (OptimizerVariable | undefined)[];
  if (!list[index])
    list[index] = {
      originalName: `${variable.name}/${kind.suffix}`,
      variable: tf.tidy(() => (kind.initial ? tf.fill(variable.shape, kind.initial) : tf.zerosLike(variable)).variable(false)),
    };
  const entry = list[index]!;
  if (!tf.util.arraysEqual(entry.variable.shape, variable.shape)) {
    throw new Error(
      `${optimizer.getClassName()}: slot ${index} (${entry.originalName}) has shape [${entry.variable.shape.join(", ")}], ` +
        `variable ${index} (${variable.name}) is [${variable.shape.join(", ")}]; the optimizer's state belongs to another model or variable order`,
    );
  }
  return entry.variable;
}

/** Variable `index`'s slot of `kind` as the optimizer holds it now (setWeights replaces the lists). */
export function currentSlot(optimizer: tf.Optimizer, kind: SlotKind, index: number): tf.Variable | undefined {
  return ((optimizer as unknown as Fields)[kind.field] as (OptimizerVariable | undefined)[] | undefined)?.[index]?.variable;
}

export function stateVariable(optimizer: tf.Optimizer, field: string): tf.Variable {
  const v = (optimizer as unknown as Fields)[field];
  if (!(v instanceof tf.Variable)) throw new Error(`${optimizer.getClassName()}: expected a variable in its ${field} field`);
  return v;
}

/**
 * tfjs counts steps in the optimizer (a protected method); the fused step counts the same way, and
 * advances Nadam's Π as its applyGradients does.
 */
export function countStep(optimizer: tf.Optimizer): void {
  if (isA(optimizer, TwoMomentOptimizer)) optimizer.countStep();
  else (optimizer as unknown as { incrementIterations(): void }).incrementIterations();
}

// Every field of the spec: a change in any of them (Nadam's and AdamW's per-step constants change
// every step) goes to the trainer before the next step.
const SPEC_FIELDS = [
  "kind",
  "learningRate",
  "momentum",
  "nesterov",
  "beta1",
  "beta2",
  "epsilon",
  "decay",
  "centered",
  "rho",
  "weightDecay",
  "alpha",
  "momentumWeight",
  "gradientWeight",
  "secondMomentCorrection",
] as const satisfies readonly (keyof TrainerOptimizerSpec)[];
// A field added to TrainerOptimizerSpec but not above fails to compile here.
const everyFieldCompared: Exclude<keyof TrainerOptimizerSpec, (typeof SPEC_FIELDS)[number]> extends never ? true : never = true;

export function sameHyperParameters(a: TrainerOptimizerSpec, b: TrainerOptimizerSpec): boolean {
  return everyFieldCompared && SPEC_FIELDS.every((k) => a[k] === b[k]);
}
