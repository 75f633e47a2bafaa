import * as tf from "@tensorflow/tfjs";
import { optimizerVariables } from "../optimizers";
import type { BatchNormPlan, DenseBlock, DenseStackPlan, WeightHandle } from "../model/dense-stack";
import { type Activation, activate, activationGrad } from "./activations";
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
 * The written-out step for the models model/dense-stack.ts plans (the native engine's fused step trains the
 * same ones): per batch about 30 kernels for the tutorial instead of the ~100 that tf.variableGrads records,
 * with the softmax, loss and accuracy done in JS on the [n, 10] logits.
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

/** A Dense layer's variables and activation, and the ops after it, in the order the step runs them. */
export interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable | null;
  /** The Dense's own activation: relu and linear are fused into the product; others become an AfterOp. */
  activation: "relu" | "linear" | "softmax";
  /** L2 factor of its kernel regularizer (0: none). */
  l2: number;
  after: AfterOp[];
}

/** The written-out step's form of a plan: each Dropout becomes an op after the block before it (the first Dense's is `inputDropout`). */
export interface DenseStack {
  /** A BatchNormalization on the input rows (Flatten -> BN -> Dense), before inputDropout. */
  inputNorm: BatchNormVars | null;
  /** Rate of a Dropout on the input rows (Flatten -> Dropout -> Dense); 0 for none. */
  inputDropout: number;
  layers: DenseLayer[];
}

/** The plan's blocks as the step's layers and ops: one Dense each, its activation, BN and Dropout in the model's order. */
export function denseStack(plan: DenseStackPlan): DenseStack {
  const layers = plan.blocks.map((block) => denseLayer(block));
  plan.blocks.forEach((block, i) => {
    if (i > 0 && block.dropout > 0) layers[i - 1]!.after.push({ kind: "dropout", rate: block.dropout });
  });
  return { inputNorm: plan.inputBatchNorm && batchNormVars(plan.inputBatchNorm), inputDropout: plan.blocks[0]!.dropout, layers };
}

function batchNormVars(bn: BatchNormPlan): BatchNormVars {
  const variable = (w: WeightHandle) => w.read() as tf.Variable;
  return {
    gamma: bn.gamma && variable(bn.gamma),
    beta: bn.beta && variable(bn.beta),
    movingMean: variable(bn.movingMean),
    movingVariance: variable(bn.movingVariance),
    momentum: bn.momentum,
    epsilon: bn.epsilon,
  };
}

function denseLayer(block: DenseBlock): DenseLayer {
  const variable = (w: WeightHandle) => w.read() as tf.Variable;
  const bn = block.batchNorm;
  // relu is exact either way, so it is fused into the product unless a BN sits between the Dense and it.
  const own = block.activation === "softmax" ? "softmax" : block.activation === "relu" && bn?.position !== "before" ? "relu" : "linear";
  const activation: AfterOp[] =
    own === "linear" && block.activation !== "linear"
      ? [{ kind: "activation", activation: block.activation as Activation, alpha: block.alpha }]
      : [];
  const normalize: AfterOp[] = bn
    ? [...(bn.dropout > 0 ? [{ kind: "dropout" as const, rate: bn.dropout }] : []), { kind: "batchNorm", bn: batchNormVars(bn) }]
    : [];
  return {
    kernel: variable(block.kernel),
    bias: block.bias && variable(block.bias),
    activation: own,
    l2: block.l2,
    after: bn?.position === "before" ? [...normalize, ...activation] : [...activation, ...normalize],
  };
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
export function denseStep(stack: DenseStack, optimizer: tf.Optimizer, options: DenseStepOptions = {}): Step {
  const layers = stack.layers;
  const normVars = (bn: BatchNormVars) => [bn.gamma, bn.beta].filter((v): v is tf.Variable => v !== null);
  const order = [
    ...(stack.inputNorm ? normVars(stack.inputNorm) : []),
    ...layers.flatMap((l) => [
      l.kernel,
      ...(l.bias ? [l.bias] : []),
      ...l.after.flatMap((op) => (op.kind === "batchNorm" ? normVars(op.bn) : [])),
    ]),
  ];
  const variables = new Map(order.map((v) => [v.name, v]));
  const clipping = options.clipNorm != null || options.clipValue != null;
  const sgd = optimizer.getClassName() === "SGD" && !clipping ? optimizerVariables(optimizer) : null;
  const random = options.random ?? seededRandom((options.seed ?? 0) + 0x5eed);
  const regularized = layers.some((l) => l.l2 > 0);
  return (xb, labels) => {
    let result: StepResult = { loss: NaN, correct: 0 };
    tf.tidy(() => {
      const pass = forward(stack, xb, random);
      const scale = sgd ? -sgd.learningRate() : 1;
      const { loss, correct, gradient } = softmaxCrossEntropy(pass.logits.dataSync() as Float32Array, labels, scale);
      const penalty = regularized ? l2Penalty(layers) : 0;
      result = { loss: loss + penalty, correct };
      const grads = backward(stack, pass, tf.tensor2d(gradient, pass.logits.shape), scale);
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

/** One forward pass in training mode: each layer's input, what each op saved, and the logits. */
interface Pass {
  /** The input BN's saved values and the input dropout's mask, when the stack has them. */
  input: { norm?: Saved; mask?: tf.Tensor2D };
  inputs: tf.Tensor2D[];
  saved: Saved[][];
  logits: tf.Tensor2D;
}

function forward(stack: DenseStack, xb: tf.Tensor, random: () => number): Pass {
  const n = xb.shape[0]!;
  let x = tf.reshape(xb, [n, -1]) as tf.Tensor2D;
  const input: Pass["input"] = {};
  if (stack.inputNorm) {
    const { y, xhat, invStd } = batchNormForward(stack.inputNorm, x);
    input.norm = { z: x, y, xhat, invStd };
    x = y;
  }
  if (stack.inputDropout > 0) {
    input.mask = dropoutMask(x.shape, stack.inputDropout, random);
    x = tf.mul(x, input.mask);
  }
  const inputs: tf.Tensor2D[] = [x];
  const saved: Saved[][] = [];
  for (const layer of stack.layers) {
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
  return { input, inputs, saved, logits: inputs.pop()! };
}

/** Every variable's gradient by name, from the logits' gradient `dz` (already scaled by `scale`). */
function backward(stack: DenseStack, pass: Pass, dz: tf.Tensor2D, scale: number): tf.NamedTensorMap {
  const { inputs, saved } = pass;
  const layers = stack.layers;
  const grads: tf.NamedTensorMap = {};
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    for (let j = layer.after.length - 1; j >= 0; j--) dz = backwardOp(layer.after[j]!, saved[i]![j]!, dz, grads);
    if (layer.activation === "relu") dz = tf.mul(dz, tf.step(layer.after.length ? saved[i]![0]!.z : inputs[i + 1]!));
    let dw = tf.matMul(inputs[i]!, dz, true, false);
    if (layer.l2 > 0) dw = tf.add(dw, tf.mul(layer.kernel, 2 * layer.l2 * scale));
    grads[layer.kernel.name] = dw;
    if (layer.bias) grads[layer.bias.name] = tf.sum(dz, 0);
    if (i === 0 && !stack.inputNorm) break;
    dz = tf.matMul(dz, layer.kernel as tf.Tensor2D, false, true);
  }
  if (stack.inputNorm) {
    // dz is now the loss gradient w.r.t. the first Dense's input: back through its dropout, then the input BN.
    if (pass.input.mask) dz = tf.mul(dz, pass.input.mask);
    backwardOp({ kind: "batchNorm", bn: stack.inputNorm }, pass.input.norm!, dz, grads);
  }
  return grads;
}

/** Keras's regularization loss: Σ l2·ΣW² over the regularized kernels (part of the reported loss, as in Keras). */
function l2Penalty(layers: DenseLayer[]): number {
  return layers.reduce((sum, l) => (l.l2 > 0 ? sum + l.l2 * tf.sum(tf.square(l.kernel)).dataSync()[0]! : sum), 0);
}

/** tf.dropout's mask (keep where u ≥ rate, scaled by 1/(1 - rate)), drawn from the step's own seeded stream. */
function dropoutMask(shape: [number, number], rate: number, random: () => number): tf.Tensor2D {
  const keep = 1 - rate;
  const values = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < values.length; i++) values[i] = random() >= rate ? 1 / keep : 0;
  return tf.tensor2d(values, shape);
}

/*
 * Training-mode BatchNormalization (tfjs-layers' and Keras's): batch mean and biased variance, moving averages
 * updated. Written out in JS with float64 sums, rounded to float32 where a tensor holds the value, as the native
 * engine's native/src/batchnorm.h does: tfjs's float32 kernel chain (moments, then sub, mul, mean for the gradient)
 * rounds every intermediate, and the gradient's dy − mean(dy) − x̂·mean(dy·x̂) cancels almost entirely on a unit
 * that is nearly constant over the batch (a relu zero on most rows), which BN then multiplies by 1/√(σ² + ε) ≈ 32.
 * Chained over steps, those roundings took the wasm step 3x further from a float64 Keras than Keras's own float32
 * run (test/e2e/keras-layers.test.ts); the batch is small (rows × units), so the JS pass costs little.
 */
function batchNormForward(bn: BatchNormVars, z: tf.Tensor2D): { y: tf.Tensor2D; xhat: tf.Tensor2D; invStd: tf.Tensor } {
  const [n, units] = z.shape;
  const x = z.dataSync() as Float32Array;
  const gamma = bn.gamma?.dataSync() as Float32Array | undefined;
  const beta = bn.beta?.dataSync() as Float32Array | undefined;
  const mean = new Float32Array(units);
  const variance = new Float32Array(units);
  const invStd = new Float32Array(units);
  const sum = new Float64Array(units);
  const sq = new Float64Array(units);
  for (let i = 0; i < n; i++) for (let j = 0; j < units; j++) sum[j]! += x[i * units + j]!;
  for (let j = 0; j < units; j++) mean[j] = sum[j]! / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < units; j++) {
      const d = Math.fround(x[i * units + j]! - mean[j]!);
      sq[j]! += d * d;
    }
  for (let j = 0; j < units; j++) {
    variance[j] = sq[j]! / n;
    invStd[j] = 1 / Math.sqrt(variance[j]! + bn.epsilon);
  }
  const xhat = new Float32Array(n * units);
  const y = new Float32Array(n * units);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < units; j++) {
      const k = i * units + j;
      xhat[k] = Math.fround(x[k]! - mean[j]!) * invStd[j]!;
      y[k] = Math.fround(gamma ? Math.fround(gamma[j]! * xhat[k]!) : xhat[k]!) + (beta ? beta[j]! : 0);
    }
  // tfjs-layers' doMovingAverage: v ← v - (v - batch value)·(1 - momentum), in float32 ops.
  const decay = Math.fround(1 - bn.momentum);
  const moveTowards = (v: tf.Variable, value: Float32Array) => {
    const moving = Float32Array.from(v.dataSync() as Float32Array);
    for (let j = 0; j < units; j++) moving[j] = moving[j]! - Math.fround(Math.fround(moving[j]! - value[j]!) * decay);
    v.assign(tf.tensor1d(moving));
  };
  moveTowards(bn.movingMean, mean);
  moveTowards(bn.movingVariance, variance);
  return { y: tf.tensor2d(y, [n, units]), xhat: tf.tensor2d(xhat, [n, units]), invStd: tf.tensor1d(invStd) };
}

/** BN's backward: dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), dgamma = Σ dy·x̂, dbeta = Σ dy, summed in float64. */
function batchNormBackward(bn: BatchNormVars, s: Saved, dyTensor: tf.Tensor2D, grads: tf.NamedTensorMap): tf.Tensor2D {
  const [n, units] = dyTensor.shape;
  const dy = dyTensor.dataSync() as Float32Array;
  const xhat = s.xhat!.dataSync() as Float32Array;
  const invStd = s.invStd!.dataSync() as Float32Array;
  const gamma = bn.gamma?.dataSync() as Float32Array | undefined;
  const sdy = new Float64Array(units);
  const sdyx = new Float64Array(units);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < units; j++) {
      sdy[j]! += dy[i * units + j]!;
      sdyx[j]! += dy[i * units + j]! * xhat[i * units + j]!;
    }
  if (bn.gamma) grads[bn.gamma.name] = tf.tensor1d(Float32Array.from(sdyx));
  if (bn.beta) grads[bn.beta.name] = tf.tensor1d(Float32Array.from(sdy));
  const dx = new Float32Array(n * units);
  for (let j = 0; j < units; j++) {
    const scale = Math.fround((gamma ? gamma[j]! : 1) * invStd[j]!);
    const meanDy = sdy[j]! / n;
    const meanDyx = sdyx[j]! / n;
    for (let i = 0; i < n; i++) {
      const k = i * units + j;
      dx[k] = scale * Math.fround(dy[k]! - meanDy - xhat[k]! * meanDyx);
    }
  }
  return tf.tensor2d(dx, [n, units]);
}

/** One op's backward: its input's gradient from its output's, adding BN's dgamma/dbeta to `grads`. */
function backwardOp(op: AfterOp, s: Saved, dy: tf.Tensor2D, grads: tf.NamedTensorMap): tf.Tensor2D {
  if (op.kind === "activation") return activationGrad(op.activation, dy, s.z, s.y, op.alpha);
  if (op.kind === "dropout") return tf.mul(dy, s.mask!);
  return batchNormBackward(op.bn, s, dy, grads);
}
