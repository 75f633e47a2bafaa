import * as tf from "@tensorflow/tfjs";
import { compiledLossFunction, compiledLossName } from "../model/compiled";
import { planDenseStack } from "../model/dense-stack";
import { type Clipping, clipGradients } from "./clip";
import { type DenseStepOptions, denseStack, denseStep, type Step } from "./dense-step";
import { EPSILON } from "./softmax";

/*
 * One optimizer step on a batch: forward, loss, gradients, the model's own optimizer.
 * For the Dense stacks model/dense-stack.ts plans (the tutorial's and chapter 11's models)
 * the backward pass is written out: about 30 kernels a step instead of the ~100 that tf.variableGrads
 * records (reshapes, identities, casts, the loss's normalise/clip/log chain), and the softmax, loss and
 * accuracy come from the 32x10 logits in JS. Any other model takes the generic path.
 */

export {
  type DenseStepOptions,
  denseStack,
  denseStep,
  type Step,
  type StepResult,
} from "./dense-step";
import { UserError } from "../errors/user-error";

/**
 * The tfjs step for `model`: the written-out Dense step when model/dense-stack.ts plans it, else the generic one.
 * train/engine-choice.ts picks between this and the native engine's fused step (which covers the same plans).
 */
export function trainStep(model: tf.LayersModel, options: DenseStepOptions = {}): Step {
  const optimizer = model.optimizer;
  if (!optimizer) throw new UserError("train: the model is not compiled; call compileModel(model, learningRate) first");
  const plan = planDenseStack(model);
  return typeof plan === "string" ? genericStep(model, optimizer, options) : denseStep(denseStack(plan), optimizer, options);
}

/** Any compiled model: tf.variableGrads through model.apply, the compiled loss and the regularization losses. */
export function genericStep(model: tf.LayersModel, optimizer: tf.Optimizer, clip: Clipping = {}): Step {
  const compiled = compiledLossFunction(model);
  const lossFn =
    compiledLossName(model) === "sparseCategoricalCrossentropy"
      ? sparseCrossEntropy
      : (y: tf.Tensor, p: tf.Tensor) => tf.mean(compiled(y, p)) as tf.Scalar;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (xb, labels) => {
    const yb = tf.tensor1d(labels, "float32");
    let correct: tf.Tensor | undefined;
    const { value: loss, grads } = tf.variableGrads(() => {
      const probs = model.apply(xb, { training: true }) as tf.Tensor;
      correct = tf.keep(countCorrect(probs, yb));
      const penalties = model.calculateLosses();
      return penalties.length ? tf.addN([lossFn(yb, probs), ...penalties]) : lossFn(yb, probs);
    }, vars);
    tf.tidy(() => optimizer.applyGradients(clipGradients(grads, clip)));
    tf.dispose(grads);
    const out = { loss: loss.dataSync()[0]!, correct: correct!.dataSync()[0]! };
    tf.dispose([loss, correct!, yb]);
    return out;
  };
}

/**
 * Mean sparse categorical cross-entropy of softmax outputs, -mean(log(clip(p[y]))), the value Keras
 * computes, with its gradient written out: -1/(N·p[y]) at the true class, 0 elsewhere. Through the
 * softmax that is (p - onehot)/N, as Keras's; tfjs's generic loss gets there through a dozen small
 * kernels (normalise, clip with its compare/select gradient, log, sums) that cost more than the
 * arithmetic at batch 32.
 */
export const sparseCrossEntropy = (labels: tf.Tensor, probs: tf.Tensor): tf.Scalar =>
  tf.customGrad(((p: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    const onehot = tf.oneHot(tf.cast(y, "int32"), p.shape[p.shape.length - 1]!);
    const picked = tf.clipByValue(tf.sum(tf.mul(p, onehot), -1), EPSILON, 1 - EPSILON);
    save([picked, onehot]);
    return {
      value: tf.neg(tf.mean(tf.log(picked))) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [pk, oh] = saved as [tf.Tensor, tf.Tensor];
        const scale = tf.div(tf.neg(dy), tf.mul(pk, pk.shape[0]!));
        return [tf.mul(oh, tf.expandDims(scale, -1)), tf.zerosLike(y)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0])(probs, labels) as tf.Scalar;

/** How many rows of `probs` have their largest value at the label's index (Keras's sparse accuracy). */
export function countCorrect(probs: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), tf.cast(labels, "int32")), "float32")));
}
