import * as tf from "@tensorflow/tfjs";
import { optimizerVariables } from "../optimizers";
import { ACTIVATION_NAMES, type Activation, activate, activationGrad } from "./activations";
import { type Clipping, clipGradients } from "./clip";
import { seededRandom } from "./shuffle";
import { softmaxCrossEntropy } from "./softmax";

/** Mean loss of the batch (regularization included, as Keras reports it) and how many of its predictions were right. */
export interface StepResult {
  loss: number;
  correct: number;
}

/** Trains on one batch: images [n, ...] (0..1 or standardized) and their class indices. */
export type Step = (xb: tf.Tensor, labels: Float32Array) => StepResult;

/*
 * The written-out step for the models createModel builds: Sequential, Flatten, then blocks of Dense
 * followed by any of Activation / LeakyReLU / BatchNormalization / Dropout, then Dense(softmax), compiled
 * with sparse cross-entropy. Per batch: about 30 kernels for the tutorial instead of the ~100 that
 * tf.variableGrads records, with the softmax, loss and accuracy done in JS on the [n, 10] logits.
 */

/** BatchNormalization's variables and settings (axis -1). */
export interface BatchNormVars {
  gamma: tf.Variable | null;
  beta: tf.Variable | null;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
  momentum: number;
  epsilon: number;
}

/** What follows a Dense layer's own (fused) activation, in order. */
export type AfterOp =
  | { kind: "activation"; activation: Activation; alpha: number }
  | { kind: "batchNorm"; bn: BatchNormVars }
  | { kind: "dropout"; rate: number };

/** A Dense layer's variables and activation, and the layers after it, as the written-out step uses them. */
export interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable | null;
  /** The Dense's own activation: relu and linear are fused into the product; others become an AfterOp. */
  activation: "relu" | "linear" | "softmax";
  /** L2 factor of its kernel regularizer (0: none). */
  l2: number;
  after: AfterOp[];
}

/**
 * The layers of a model the written-out step covers, or null for anything else (then the generic step
 * trains it): see the header; every layer trainable, kernel regularizers L2 only.
 */
export function denseStack(model: tf.LayersModel, lossName: unknown): DenseLayer[] | null {
  if (!(model instanceof tf.Sequential) || lossName !== "sparseCategoricalCrossentropy") return null;
  const layers = model.layers.filter((l, i) => !(i === 0 && l.getClassName() === "Flatten"));
  const stack: DenseLayer[] = [];
  for (const layer of layers) {
    const c = layer.getConfig();
    const cls = layer.getClassName();
    const current = stack[stack.length - 1];
    if (!layer.trainable) return null;
    if (cls === "Dense") {
      if (current?.activation === "softmax") return null;
      const l2 = l2Factor(c);
      if (l2 === null || c.biasRegularizer || c.activityRegularizer) return null;
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      if (kernel?.rank !== 2) return null;
      const name = c.activation as string;
      const own = name === "relu" || name === "linear" || name === "softmax" ? name : "linear";
      stack.push({ kernel, bias: c.useBias ? bias! : null, activation: own, l2, after: [] });
      if (own !== name) {
        if (!(ACTIVATION_NAMES as readonly string[]).includes(name)) return null;
        stack[stack.length - 1]!.after.push({ kind: "activation", activation: name as Activation, alpha: 0 });
      }
    } else if (!current || current.activation === "softmax") {
      return null;
    } else if (cls === "Activation" && (ACTIVATION_NAMES as readonly string[]).includes(c.activation as string)) {
      current.after.push({ kind: "activation", activation: c.activation as Activation, alpha: 0 });
    } else if (cls === "LeakyReLU") {
      current.after.push({ kind: "activation", activation: "leaky_relu", alpha: c.alpha as number });
    } else if (cls === "Dropout" && !c.noiseShape) {
      current.after.push({ kind: "dropout", rate: c.rate as number });
    } else if (cls === "BatchNormalization" && (c.axis === -1 || c.axis === 1)) {
      // tfjs makes names unique with a suffix (batch_normalization/gamma_1) when a model is built twice.
      const find = (kind: string) =>
        layer.weights.find((w) => new RegExp(`/${kind}(_\\d+)?$`).test(w.name))?.read() as tf.Variable | undefined;
      const [movingMean, movingVariance] = [find("moving_mean"), find("moving_variance")];
      if (!movingMean || !movingVariance) return null;
      const bn = { gamma: find("gamma") ?? null, beta: find("beta") ?? null, movingMean, movingVariance };
      current.after.push({ kind: "batchNorm", bn: { ...bn, momentum: c.momentum as number, epsilon: c.epsilon as number } });
    } else {
      return null;
    }
  }
  return stack.length > 0 && stack[stack.length - 1]!.activation === "softmax" ? stack : null;
}

/** The L2 factor of a Dense config's kernel regularizer: 0 for none, null for one the step does not write out. */
function l2Factor(c: tf.serialization.ConfigDict): number | null {
  const r = c.kernelRegularizer as { className?: string; config?: { l1?: number; l2?: number } } | null | undefined;
  if (!r) return 0;
  if (r.className !== "L1L2" || (r.config?.l1 ?? 0) !== 0) return null;
  return r.config?.l2 ?? 0;
}

/** Options of the written-out step. */
export interface DenseStepOptions extends Clipping {
  /** Seeds the dropout masks (a stream of its own, so the batch order does not depend on dropout). */
  seed?: number;
  /** The dropout masks' uniform numbers instead (train() restarts it every epoch, so a resumed run draws the same masks). */
  random?: () => number;
}

/** What a block's backward needs from its forward. */
type Saved = { z: tf.Tensor2D; y: tf.Tensor2D; mask?: tf.Tensor2D; xhat?: tf.Tensor2D; invStd?: tf.Tensor };

/**
 * Forward through the stack, then Keras's sparse cross-entropy gradient (p - onehot)/n through the softmax,
 * then each block backwards: its ops in reverse (activation', BN's batch-statistics gradient, the dropout
 * mask), then dW = inputᵀ·dz (+ 2·l2·W), db = Σdz, and dz·Wᵀ for the block below. BN layers use the batch's
 * mean and (biased) variance and move their moving averages as Keras does. The gradients are clipped as
 * Keras clips them and handed to the optimizer, except for plain SGD without clipping: then the loss
 * gradient is scaled by -learningRate at the top, so every gradient below arrives as its update (one add
 * a variable instead of the optimizer's multiply and add over the whole weight matrix).
 */
export function denseStep(stack: DenseLayer[], optimizer: tf.Optimizer, options: DenseStepOptions = {}): Step {
  const order = stack.flatMap((l) => [
    l.kernel,
    ...(l.bias ? [l.bias] : []),
    ...l.after.flatMap((op) => (op.kind === "batchNorm" ? [op.bn.gamma, op.bn.beta].filter((v): v is tf.Variable => v !== null) : [])),
  ]);
  const variables = new Map(order.map((v) => [v.name, v]));
  const clipping = options.clipNorm != null || options.clipValue != null;
  const sgd = optimizer.getClassName() === "SGD" && !clipping ? optimizerVariables(optimizer) : null;
  const random = options.random ?? seededRandom((options.seed ?? 0) + 0x5eed);
  const regularized = stack.some((l) => l.l2 > 0);
  return (xb, labels) => {
    let result: StepResult = { loss: NaN, correct: 0 };
    tf.tidy(() => {
      const n = xb.shape[0]!;
      const inputs: tf.Tensor2D[] = [tf.reshape(xb, [n, -1])];
      const saved: Saved[][] = [];
      for (const layer of stack) {
        let a = tf.fused.matMul({
          a: inputs[inputs.length - 1]!,
          b: layer.kernel as tf.Tensor2D,
          bias: layer.bias ?? undefined,
          activation: layer.activation === "relu" ? "relu" : "linear",
        }) as tf.Tensor2D;
        const blockSaved: Saved[] = [];
        for (const op of layer.after) {
          const z = a;
          if (op.kind === "activation") {
            a = activate(op.activation, z, op.alpha);
            blockSaved.push({ z, y: a });
          } else if (op.kind === "dropout") {
            const mask = dropoutMask(z.shape as [number, number], op.rate, random);
            a = tf.mul(z, mask);
            blockSaved.push({ z, y: a, mask });
          } else {
            const { y, xhat, invStd } = batchNormForward(op.bn, z);
            a = y;
            blockSaved.push({ z, y, xhat, invStd });
          }
        }
        saved.push(blockSaved);
        inputs.push(a);
      }
      const logits = inputs.pop()!;
      const scale = sgd ? -sgd.learningRate() : 1;
      const { loss, correct, gradient } = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, scale);
      const penalty = regularized ? l2Penalty(stack) : 0;
      result = { loss: loss + penalty, correct };
      let dz: tf.Tensor2D = tf.tensor2d(gradient, logits.shape);
      const grads: tf.NamedTensorMap = {};
      for (let i = stack.length - 1; i >= 0; i--) {
        const layer = stack[i]!;
        for (let j = layer.after.length - 1; j >= 0; j--) dz = backwardOp(layer.after[j]!, saved[i]![j]!, dz, grads);
        if (layer.activation === "relu") dz = tf.mul(dz, tf.step(layer.after.length ? saved[i]![0]!.z : inputs[i + 1]!));
        let dw = tf.matMul(inputs[i]!, dz, true, false);
        if (layer.l2 > 0) dw = tf.add(dw, tf.mul(layer.kernel, 2 * layer.l2 * scale));
        grads[layer.kernel.name] = dw;
        if (layer.bias) grads[layer.bias.name] = tf.sum(dz, 0);
        if (i === 0) break;
        dz = tf.matMul(dz, layer.kernel as tf.Tensor2D, false, true);
      }
      if (!sgd) {
        // The model's weight order, as the generic step gives them: optimizers keep their slots by position.
        const ordered = Object.fromEntries(order.map((v) => [v.name, grads[v.name]!]));
        optimizer.applyGradients(clipGradients(ordered, options));
        return;
      }
      for (const [name, update] of Object.entries(grads)) variables.get(name)!.assign(tf.add(variables.get(name)!, update));
      sgd.countStep();
    });
    return result;
  };
}

/** Keras's regularization loss: Σ l2·ΣW² over the regularized kernels (part of the reported loss, as in Keras). */
function l2Penalty(stack: DenseLayer[]): number {
  return stack.reduce((sum, l) => (l.l2 > 0 ? sum + l.l2 * tf.sum(tf.square(l.kernel)).dataSync()[0]! : sum), 0);
}

/** tf.dropout's mask (keep where u ≥ rate, scaled by 1/(1 - rate)), drawn from the step's own seeded stream. */
function dropoutMask(shape: [number, number], rate: number, random: () => number): tf.Tensor2D {
  const keep = 1 - rate;
  const values = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < values.length; i++) values[i] = random() >= rate ? 1 / keep : 0;
  return tf.tensor2d(values, shape);
}

/** Training-mode BatchNormalization (tfjs-layers' and Keras's): batch mean and biased variance, moving averages updated. */
function batchNormForward(bn: BatchNormVars, z: tf.Tensor2D): { y: tf.Tensor2D; xhat: tf.Tensor2D; invStd: tf.Tensor } {
  const { mean, variance } = tf.moments(z, 0);
  const y = tf.batchNorm(z, mean, variance, bn.beta ?? undefined, bn.gamma ?? undefined, bn.epsilon) as tf.Tensor2D;
  const invStd = tf.rsqrt(tf.add(variance, bn.epsilon));
  const xhat = tf.mul(tf.sub(z, mean), invStd) as tf.Tensor2D;
  // tfjs-layers' doMovingAverage: v ← v - (v - batch value)·(1 - momentum).
  const moveTowards = (v: tf.Variable, value: tf.Tensor) => v.assign(tf.sub(v, tf.mul(tf.sub(v, value), 1 - bn.momentum)));
  moveTowards(bn.movingMean, mean);
  moveTowards(bn.movingVariance, variance);
  return { y, xhat, invStd };
}

/** One op's backward: its input's gradient from its output's, adding BN's dgamma/dbeta to `grads`. */
function backwardOp(op: AfterOp, s: Saved, dy: tf.Tensor2D, grads: tf.NamedTensorMap): tf.Tensor2D {
  if (op.kind === "activation") return activationGrad(op.activation, dy, s.z, s.y, op.alpha);
  if (op.kind === "dropout") return tf.mul(dy, s.mask!);
  const { gamma, beta } = op.bn;
  const xhat = s.xhat!;
  if (gamma) grads[gamma.name] = tf.sum(tf.mul(dy, xhat), 0);
  if (beta) grads[beta.name] = tf.sum(dy, 0);
  // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), the batch statistics' share included.
  const centered = tf.sub(tf.sub(dy, tf.mean(dy, 0)), tf.mul(xhat, tf.mean(tf.mul(dy, xhat), 0)));
  return tf.mul(centered, gamma ? tf.mul(gamma, s.invStd!) : s.invStd!) as tf.Tensor2D;
}
