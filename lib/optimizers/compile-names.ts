/**
 * Keras's habit `model.compile({ optimizer: "nadam", ... })` on tfjs.
 *
 * tfjs 4.22's LayersModel.compile looks a string up in tfjs-layers' getOptimizer, a fixed table of six names
 * (no nadam or adamw: "Unknown Optimizer nadam") with tfjs's own defaults where Keras's differ (Adagrad 0.01,
 * Adadelta 1.0 and tfjs's update rule, Adamax 0.002; Keras 3 uses 0.001 for all three). getOptimizer is a
 * module-private function that the tfjs bundle inlines, so it cannot be replaced or extended. The one place every
 * compile goes through is LayersModel.prototype.compile (Sequential.compile hands its arguments to an inner
 * LayersModel), so the hook wraps that method, and only for a string: the name becomes the optimizer
 * createOptimizer builds for it (Keras's class, Keras 3's defaults), and the model owns it and disposes it with
 * itself, as tfjs does for the optimizers it builds from its own names. An optimizer object passes through
 * untouched, so nothing changes for code that never used a string.
 */
import * as tf from "@tensorflow/tfjs";
import { giveOptimizerToModel } from "./tfjs-internals";
import { UserError } from "../errors/user-error";

/** Marks a wrapped compile, so a second copy of this module (or a second call) does not wrap it again. */
const WRAPPED = Symbol.for("fashion-ann.compileOptimizerNames");

type Compile = tf.LayersModel["compile"] & { [WRAPPED]?: true };

/**
 * Makes `model.compile` accept each of `names` (any case, as Keras does: "adam", "Adam", "RMSprop") as
 * `optimizer`, built by `build(name)`. Any other string is refused with the list of names.
 */
export function acceptOptimizerNames(names: readonly string[], build: (name: string) => tf.Optimizer): void {
  const proto = tf.LayersModel.prototype as { compile: Compile };
  const original = proto.compile;
  if (original[WRAPPED]) return;
  const compile: Compile = function (this: tf.LayersModel, args: tf.ModelCompileArgs): void {
    if (typeof args?.optimizer !== "string") {
      original.call(this, args);
      return;
    }
    const name = args.optimizer.toLowerCase();
    if (!names.includes(name)) {
      throw new UserError(
        `optimizer ${JSON.stringify(args.optimizer)}: expected one of ${names.join(", ")} (Keras's names) or a tf.Optimizer`,
      );
    }
    original.call(this, { ...args, optimizer: build(name) });
    giveOptimizerToModel(this);
  };
  compile[WRAPPED] = true;
  proto.compile = compile;
}
