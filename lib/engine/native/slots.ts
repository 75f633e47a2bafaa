import * as tf from "@tensorflow/tfjs";
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
}

export interface OptimizerPlan {
  /** Slot kinds in getWeights() order (the trainer's slot order). */
  slots: SlotKind[];
  /** Fields holding optimizer-wide scalar variables (Adam's running β^t). */
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
      if (!(optimizer instanceof tf.AdamOptimizer)) break;
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
      if (!(optimizer instanceof tf.RMSPropOptimizer)) break;
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
  }
  return `optimizer ${name} is not covered by the native step (SGD, Momentum, Adam and RMSProp are)`;
}

/**
 * Variable `index`'s slot of `kind`. tfjs pairs slots with variables by position in the gradient list
 * (model.fit's is trainableWeights order), not by name, so a checkpoint restored into a model whose
 * variables got other names still lines up; the shape is checked instead. A missing slot is created as
 * tfjs creates it on its first applyGradients: zeros, not trainable, named "<variable>/<suffix>".
 */
export function slotVariable(optimizer: tf.Optimizer, kind: SlotKind, index: number, variable: tf.Variable): tf.Variable {
  const fields = optimizer as unknown as Fields;
  if (!fields[kind.field]) fields[kind.field] = [];
  const list = fields[kind.field] as (OptimizerVariable | undefined)[];
  if (!list[index])
    list[index] = { originalName: `${variable.name}/${kind.suffix}`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) };
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

/** tfjs counts steps in the optimizer (a protected method); the fused step counts the same way. */
export function countStep(optimizer: tf.Optimizer): void {
  (optimizer as unknown as { incrementIterations(): void }).incrementIterations();
}

export function sameHyperParameters(a: TrainerOptimizerSpec, b: TrainerOptimizerSpec): boolean {
  return (
    a.learningRate === b.learningRate &&
    a.momentum === b.momentum &&
    a.nesterov === b.nesterov &&
    a.beta1 === b.beta1 &&
    a.beta2 === b.beta2 &&
    a.epsilon === b.epsilon &&
    a.decay === b.decay
  );
}
