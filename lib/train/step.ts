import * as tf from "@tensorflow/tfjs";

/*
 * One optimizer step on a batch: forward, loss, gradients, the model's own optimizer.
 * For the tutorial's kind of model (Flatten, then Dense layers, softmax output, sparse cross-entropy)
 * the backward pass is written out: about 30 kernels a step instead of the ~100 that tf.variableGrads
 * records (reshapes, identities, casts, the loss's normalise/clip/log chain), and the softmax, loss and
 * accuracy come from the 32x10 logits in JS. Any other model takes the generic path.
 */

/** Mean loss of the batch and how many of its predictions were right. */
export interface StepResult {
  loss: number;
  correct: number;
}

/** Trains on one batch: images [n, ...] (0..1) and their class indices. */
export type Step = (xb: tf.Tensor, labels: Float32Array) => StepResult;

// Keras's epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON] before the log.
const EPSILON = 1e-7;

/** The step for `model`: the written-out Dense step when the model allows it, else the generic one. */
export function trainStep(model: tf.LayersModel): Step {
  const optimizer = model.optimizer;
  if (!optimizer) throw new Error("train: the model is not compiled; call compileModel(model, learningRate) first");
  const stack = denseStack(model);
  return stack ? denseStep(stack, optimizer) : genericStep(model, optimizer);
}

/** A Dense layer's variables and activation, as the written-out step uses them. */
export interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable | null;
  activation: "relu" | "linear" | "softmax";
}

/**
 * The Dense layers of a model the written-out step covers: Sequential, optionally Flatten first, then
 * Dense layers with relu or linear activations, the last with softmax, all trainable, no regularizers,
 * compiled with sparse categorical cross-entropy. null for anything else.
 */
export function denseStack(model: tf.LayersModel): DenseLayer[] | null {
  if (!(model instanceof tf.Sequential) || compiledLossName(model) !== "sparseCategoricalCrossentropy") return null;
  const layers = model.layers.filter((l, i) => !(i === 0 && l.getClassName() === "Flatten"));
  if (layers.length === 0) return null;
  const stack: DenseLayer[] = [];
  for (const [i, layer] of layers.entries()) {
    if (layer.getClassName() !== "Dense" || !layer.trainable) return null;
    const c = layer.getConfig();
    const regularized = c.kernelRegularizer || c.biasRegularizer || c.activityRegularizer;
    const last = i === layers.length - 1;
    const activation = c.activation as string;
    if (regularized || (last ? activation !== "softmax" : activation !== "relu" && activation !== "linear")) return null;
    const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    if (kernel?.rank !== 2) return null;
    stack.push({ kernel, bias: c.useBias ? bias! : null, activation: activation as DenseLayer["activation"] });
  }
  return stack;
}

/**
 * Forward through the stack, then Keras's sparse cross-entropy gradient (p - onehot)/n through the
 * softmax, then each layer's dW = inputᵀ·dz, db = Σdz, and dz·Wᵀ masked by relu' for the layer below.
 * The softmax runs in JS on the [n, k] logits the loss reads anyway. For plain SGD the loss gradient is
 * scaled by -learningRate at the top, so every gradient below arrives as its update: one add a variable
 * instead of the optimizer's multiply and add over the whole weight matrix.
 */
export function denseStep(stack: DenseLayer[], optimizer: tf.Optimizer): Step {
  const variables = new Map(stack.flatMap((l) => (l.bias ? [l.kernel, l.bias] : [l.kernel])).map((v) => [v.name, v]));
  const sgd = optimizer.getClassName() === "SGD" ? (optimizer as unknown as PlainSgd) : null;
  return (xb, labels) => {
    let result: StepResult = { loss: NaN, correct: 0 };
    tf.tidy(() => {
      const n = xb.shape[0]!;
      // inputs[i] is layer i's input; the last entry is the logits.
      const inputs: tf.Tensor2D[] = [tf.reshape(xb, [n, -1])];
      for (const layer of stack) {
        const z = tf.fused.matMul({
          a: inputs[inputs.length - 1]!,
          b: layer.kernel as tf.Tensor2D,
          bias: layer.bias ?? undefined,
          activation: layer.activation === "relu" ? "relu" : "linear",
        }) as tf.Tensor2D;
        inputs.push(z);
      }
      const logits = inputs.pop()!;
      const { loss, correct, gradient } = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, sgd ? -sgd.learningRate : 1);
      result = { loss, correct };
      let dz: tf.Tensor2D = tf.tensor2d(gradient, logits.shape);
      const grads: tf.NamedTensorMap = {};
      for (let i = stack.length - 1; i >= 0; i--) {
        const layer = stack[i]!;
        grads[layer.kernel.name] = tf.matMul(inputs[i]!, dz, true, false);
        if (layer.bias) grads[layer.bias.name] = tf.sum(dz, 0);
        if (i === 0) break;
        dz = tf.matMul(dz, layer.kernel as tf.Tensor2D, false, true);
        if (stack[i - 1]!.activation === "relu") dz = tf.mul(dz, tf.step(inputs[i]!));
      }
      if (!sgd) return optimizer.applyGradients(grads);
      for (const [name, update] of Object.entries(grads)) variables.get(name)!.assign(tf.add(variables.get(name)!, update));
      sgd.incrementIterations();
    });
    return result;
  };
}

/** tf.train.sgd's optimizer: W ← W - learningRate·g, and its iteration count (both protected in tfjs's types). */
interface PlainSgd {
  learningRate: number;
  incrementIterations(): void;
}

/**
 * Keras's sparse categorical cross-entropy and accuracy of softmax(`logits`) ([n, k], row-major) for class
 * indices `labels`, and `scale` times the loss's gradient with respect to the logits, (p - onehot)/n.
 * Probabilities are clipped to [1e-7, 1 - 1e-7] before the log, as Keras does.
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  scale = 1,
): { loss: number; correct: number; gradient: Float32Array } {
  const n = labels.length;
  const k = logits.length / n;
  const gradient = new Float32Array(logits.length);
  // exp(z - max) of one row, computed once per class and kept in double precision.
  const exps = new Float64Array(k);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const y = labels[i]!;
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[row + j]! > logits[row + best]!) best = j;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += exps[j] = Math.exp(logits[row + j]! - logits[row + best]!);
    const py = exps[y]! / sum;
    for (let j = 0; j < k; j++) gradient[row + j] = (scale * exps[j]!) / sum / n;
    gradient[row + y] = gradient[row + y]! - scale / n;
    if (best === y) correct++;
    loss -= Math.log(Math.min(Math.max(py, EPSILON), 1 - EPSILON));
  }
  return { loss: loss / n, correct, gradient };
}

/** Any compiled model: tf.variableGrads through model.apply and the compiled loss. */
export function genericStep(model: tf.LayersModel, optimizer: tf.Optimizer): Step {
  const compiled = compiledLoss(model);
  const lossFn =
    compiledLossName(model) === "sparseCategoricalCrossentropy"
      ? sparseCrossEntropy
      : (y: tf.Tensor, p: tf.Tensor) => tf.mean(compiled(y, p)) as tf.Scalar;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (xb, labels) => {
    const yb = tf.tensor1d(labels, "float32");
    let correct: tf.Tensor | undefined;
    const loss = optimizer.minimize(
      () => {
        const probs = model.apply(xb, { training: true }) as tf.Tensor;
        correct = tf.keep(countCorrect(probs, yb));
        return lossFn(yb, probs);
      },
      true,
      vars,
    )!;
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

/** Sequential delegates compile() to a private inner LayersModel, which holds the loss. */
function compiledModel(model: tf.LayersModel): tf.LayersModel {
  return model instanceof tf.Sequential ? (model as unknown as { model: tf.LayersModel }).model : model;
}

/** The loss name given to compile() ("sparseCategoricalCrossentropy"), if it was given by name. */
function compiledLossName(model: tf.LayersModel): unknown {
  return compiledModel(model).loss;
}

/** The loss function given to compile(). */
export function compiledLoss(model: tf.LayersModel): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  const fn = compiledModel(model).lossFunctions?.[0];
  if (!fn) throw new Error("the model is not compiled; call compileModel(model, learningRate) first");
  return fn;
}

/** How many rows of `probs` have their largest value at the label's index (Keras's sparse accuracy). */
export function countCorrect(probs: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), tf.cast(labels, "int32")), "float32")));
}
