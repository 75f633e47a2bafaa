import type * as tf from "@tensorflow/tfjs";
import { type InPlaceUpdate, type OptimizerVariables, optimizerVariables } from "../../optimizers";
import type { TrainerOptimizerSpec } from "./addon";

/*
 * The optimizer side of the fused step. The trainer updates the optimizer's *own* slot and step variables in
 * place, which it gets by asking the optimizer (lib/optimizers' OptimizerVariables), so getWeights()/setWeights(),
 * and with them checkpoints, see exactly what the optimizer's own step would have left.
 */

/** What the fused step needs of the model's optimizer. */
export interface OptimizerPlan {
  /** Its slots, step variables and update rule. */
  update: InPlaceUpdate;
  /** Its state, to count the steps the trainer takes for it. */
  variables: OptimizerVariables;
}

/** The plan for `optimizer`, or why the fused step does not cover it. */
export function planOptimizer(optimizer: tf.Optimizer | undefined): OptimizerPlan | string {
  if (!optimizer) return "the model is not compiled";
  const variables = optimizerVariables(optimizer);
  return typeof variables.inPlace === "string" ? variables.inPlace : { update: variables.inPlace, variables };
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
