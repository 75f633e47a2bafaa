import * as tf from "@tensorflow/tfjs";
import { UserError } from "../errors/user-error";

/*
 * What compile() gave a model. Sequential hands compile() to a private inner LayersModel, which holds the
 * loss as given (a name or a function) and the loss functions tfjs resolved from it.
 */

function compiledModel(model: tf.LayersModel): tf.LayersModel {
  return model instanceof tf.Sequential ? ((model as unknown as { model?: tf.LayersModel }).model ?? model) : model;
}

/** The loss as given to compile(): a name such as "sparseCategoricalCrossentropy", a function, or undefined before compile(). */
export function compiledLossName(model: tf.LayersModel): unknown {
  return compiledModel(model).loss;
}

/** The loss function compile() resolved: per-row losses of (yTrue, yPred). */
export function compiledLossFunction(model: tf.LayersModel): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  const fn = compiledModel(model).lossFunctions?.[0];
  if (!fn) throw new UserError("the model is not compiled; call compileModel(model, learningRate) first");
  return fn;
}
