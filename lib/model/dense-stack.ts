import * as tf from "@tensorflow/tfjs";
import { compiledLossName } from "./compiled";

/*
 * The one reading of a Sequential Dense stack that the fast training steps share: the native engine's fused
 * step (engine/native) and the wasm written-out step (train/dense-step.ts) both train exactly the models
 * planDenseStack accepts, so a model is covered by both or by neither, with one reason. What it covers, in
 * the orders chapters 10 and 11 write them:
 *
 *   - a Sequential of an optional Flatten, then Dense layers, the last one softmax, compiled with sparse
 *     categorical cross-entropy;
 *   - each hidden Dense's activation given as its own (Dense(300, "relu")) or as the layer right after it
 *     (Activation, LeakyReLU, ReLU, ELU), one of STACK_ACTIVATIONS;
 *   - at most one BatchNormalization per hidden Dense: after the activation (Dense(act) -> BN), before it
 *     (Dense(linear) -> BN -> Activation), or after a Dropout (Dense(act) -> Dropout -> BN); and one on the
 *     input (Flatten -> BN -> Dense, the chapter's first BN model);
 *   - a Dropout before any Dense (Flatten -> Dropout -> Dense, Dense -> BN -> Dropout -> Dense);
 *   - an l2 kernel regularizer (tf.regularizers.l2) on any Dense; every layer trainable.
 *
 * Anything else (a Dropout before the input's BatchNormalization, two Dropouts in a row, an l1 penalty, a frozen layer)
 * trains with tfjs's per-op step, and planDenseStack says which layer and why.
 */

/** The hidden activations both fast steps write out, by tfjs-layers' names ("leakyRelu": the LeakyReLU layer). */
const STACK_ACTIVATIONS = [
  "linear",
  "relu",
  "relu6",
  "elu",
  "selu",
  "leakyRelu",
  "gelu",
  "gelu_new",
  "swish",
  "mish",
  "tanh",
  "sigmoid",
  "softplus",
  "softsign",
  "hardSigmoid",
] as const;
export type StackActivation = (typeof STACK_ACTIVATIONS)[number];

/** A layer weight as tfjs-layers holds it: read() gives the live tf.Variable. */
export interface WeightHandle {
  read(): tf.Tensor;
}

/** A BatchNormalization (last axis) on a hidden Dense's output, with its variables. */
export interface BatchNormPlan {
  /** "after": Dense(act) -> BN; "before": Dense(linear) -> BN -> activation (Géron's BN before the activation). */
  position: "after" | "before";
  /** Rate of a Dropout right before the BN (Dense(act) -> Dropout -> BN); 0 for none. Its mask applies before the batch statistics. */
  dropout: number;
  momentum: number;
  epsilon: number;
  /** Has beta. */
  center: boolean;
  /** Has gamma. */
  scale: boolean;
  gamma: WeightHandle | null;
  beta: WeightHandle | null;
  movingMean: WeightHandle;
  movingVariance: WeightHandle;
}

/** One Dense layer with what the plan folds into it: the Dropout before it, its activation and BatchNormalization. */
export interface DenseBlock {
  units: number;
  kernel: WeightHandle;
  bias: WeightHandle | null;
  /** Hidden blocks: one of STACK_ACTIVATIONS; the last block: softmax. */
  activation: StackActivation | "softmax";
  /** LeakyReLU's negative slope. */
  alpha: number;
  /** Rate of the Dropout on this Dense's input (the Dropout layer right before it); 0 for none. */
  dropout: number;
  /** Keras l2 factor on the kernel: loss += l2·ΣW², gradient += 2·l2·W. */
  l2: number;
  batchNorm: BatchNormPlan | null;
}

export interface DenseStackPlan {
  /** Values per input row, i.e. the first Dense layer's fan-in (784 for Flatten of 28x28). */
  inputSize: number;
  /** A BatchNormalization on the input rows, before the first Dense (and before its Dropout, if any). */
  inputBatchNorm: BatchNormPlan | null;
  blocks: DenseBlock[];
  /** Trainable weights in tfjs's trainableWeights order: the input BN's gamma and beta, then kernel, bias, BN gamma, BN beta per block. */
  weights: WeightHandle[];
  /** The BatchNormalization layers' moving mean and moving variance, in layer order (the input BN's first). */
  buffers: WeightHandle[];
  /** The first Dropout layer's seed, if it has one. */
  seed?: number;
}

const LOSS_NAMES = ["sparseCategoricalCrossentropy", "sparse_categorical_crossentropy"];

/** What the walk has read so far. */
interface Walk {
  inputBatchNorm: BatchNormPlan | null;
  blocks: DenseBlock[];
  /** A Dropout not yet placed: it goes to the next Dense's input or the next BatchNormalization's. */
  dropout: { rate: number; where: string } | null;
  flattened: boolean;
  seed?: number;
  /** Each BatchNormalization's layer, for the reason when it sits on the output layer. */
  normalizers: Map<DenseBlock, string>;
}

/** The fast steps' reading of `model`, or one sentence on why they do not cover it (naming the layer). */
export function planDenseStack(model: tf.LayersModel): DenseStackPlan | string {
  if (!(model instanceof tf.Sequential)) return "the fast steps cover Sequential models only";
  const loss = compiledLossName(model);
  if (!LOSS_NAMES.includes(loss as string))
    return `the fast steps need the sparseCategoricalCrossentropy loss, the model is compiled with ${describeLoss(loss)}`;
  const walk: Walk = { inputBatchNorm: null, blocks: [], dropout: null, flattened: false, normalizers: new Map() };
  for (const layer of model.layers) {
    const refused = readLayer(walk, layer);
    if (refused) return refused;
  }
  if (walk.dropout) return `${walk.dropout.where}: a Dropout after the last Dense layer is not covered`;
  return finish(model, walk);
}

/** Folds one layer into the walk; a string when it is not covered. */
function readLayer(walk: Walk, layer: tf.layers.Layer): string | undefined {
  const kind = layer.getClassName();
  const where = `layer ${layer.name} (${kind})`;
  const prev = walk.blocks[walk.blocks.length - 1];
  switch (kind) {
    case "InputLayer":
      return;
    case "Flatten":
      if (prev || walk.dropout || walk.inputBatchNorm) return `${where}: Flatten is covered only before the first Dense layer`;
      walk.flattened = true;
      return;
    case "Dropout": {
      const d = layer as unknown as { rate: number; noiseShape?: unknown; seed?: number };
      if (walk.dropout) return `${where}: two Dropout layers in a row are not covered`;
      if (d.noiseShape != null) return `${where}: Dropout with a noiseShape is not covered`;
      if (!(d.rate < 1)) return `${where}: Dropout rate ${d.rate} drops everything`;
      walk.dropout = { rate: d.rate, where };
      walk.seed ??= d.seed;
      return;
    }
    case "Dense": {
      const block = denseBlock(layer, where, walk.dropout?.rate ?? 0);
      if (typeof block === "string") return block;
      walk.blocks.push(block);
      walk.dropout = null;
      return;
    }
    case "BatchNormalization": {
      if (!prev) return inputBatchNorm(walk, layer, where);
      if (prev.batchNorm) return `${where}: a second BatchNormalization on one Dense layer is not covered`;
      // After a linear Dense it normalizes the pre-activations (Géron's BN before the activation).
      const bn = batchNormPlan(layer, where, prev.activation === "linear" ? "before" : "after", walk.dropout?.rate ?? 0);
      if (typeof bn === "string") return bn;
      prev.batchNorm = bn;
      walk.normalizers.set(prev, where);
      walk.dropout = null;
      return;
    }
    default: {
      const post = activationLayer(layer, where);
      if (typeof post === "string") return post;
      if (!prev) return `${where}: an activation layer is covered only after a Dense layer`;
      if (walk.dropout) return `${where}: an activation layer right after a Dropout is not covered`;
      if (prev.activation !== "linear") return `${where}: follows a Dense layer that already has activation ${prev.activation}`;
      Object.assign(prev, post);
    }
  }
}

/** A BatchNormalization before the first Dense: on the input rows (after a Flatten, or on a flat input). */
function inputBatchNorm(walk: Walk, layer: tf.layers.Layer, where: string): string | undefined {
  if (walk.inputBatchNorm) return `${where}: a second BatchNormalization on the input is not covered`;
  if (walk.dropout) return `${where}: a Dropout before the input's BatchNormalization is not covered`;
  const bn = batchNormPlan(layer, where, "after", 0);
  if (typeof bn === "string") return bn;
  walk.inputBatchNorm = bn;
}

/** Checks the whole stack (hidden activations covered, softmax last, input width) and lists its weights. */
function finish(model: tf.Sequential, walk: Walk): DenseStackPlan | string {
  const { blocks } = walk;
  if (blocks.length === 0) return "the model has no Dense layer";
  for (const [i, b] of blocks.entries()) {
    const last = i === blocks.length - 1;
    if (last && b.activation !== "softmax") return `the last Dense layer's activation is ${b.activation}; the fast steps need softmax`;
    if (last && b.batchNorm) return `${walk.normalizers.get(b)}: BatchNormalization on the output layer is not covered`;
    if (!last && !(STACK_ACTIVATIONS as readonly string[]).includes(b.activation))
      return `hidden activation ${b.activation} is not covered by the fast steps`;
  }
  const inputShape = model.inputs[0]!.shape.slice(1);
  if (!walk.flattened && inputShape.length !== 1)
    return `the input is [${inputShape.join(", ")}] without a Flatten layer, so Dense acts on its last axis only`;
  const inputSize = blocks[0]!.kernel.read().shape[0]!;
  const flat = inputShape.reduce<number>((p, d) => p * (d ?? NaN), 1);
  if (flat !== inputSize) return `the input has ${flat} values a row, the first Dense layer expects ${inputSize}`;
  const inputBn = walk.inputBatchNorm;
  const normWeights = (bn: BatchNormPlan | null) => [...(bn?.gamma ? [bn.gamma] : []), ...(bn?.beta ? [bn.beta] : [])];
  const normBuffers = (bn: BatchNormPlan | null) => (bn ? [bn.movingMean, bn.movingVariance] : []);
  const weights = [...normWeights(inputBn), ...blocks.flatMap((b) => [b.kernel, ...(b.bias ? [b.bias] : []), ...normWeights(b.batchNorm)])];
  const buffers = [...normBuffers(inputBn), ...blocks.flatMap((b) => normBuffers(b.batchNorm))];
  return { inputSize, inputBatchNorm: inputBn, blocks, weights, buffers, seed: walk.seed };
}

/** A Dense layer as a block, with its kernel (and bias) handles. */
function denseBlock(layer: tf.layers.Layer, where: string, dropout: number): DenseBlock | string {
  const d = layer as unknown as {
    units: number;
    useBias: boolean;
    kernel: WeightHandle;
    bias: WeightHandle | null;
    kernelRegularizer?: unknown;
    biasRegularizer?: unknown;
    activityRegularizer?: unknown;
    kernelConstraint?: unknown;
    biasConstraint?: unknown;
  };
  if (!layer.trainable) return `${where}: frozen (trainable false) layers are not covered`;
  if (d.kernelConstraint || d.biasConstraint) return `${where}: weight constraints are not covered`;
  if (d.biasRegularizer || d.activityRegularizer) return `${where}: only a kernel l2 regularizer is covered`;
  const l2 = kernelL2(d.kernelRegularizer);
  if (typeof l2 === "string") return `${where}: ${l2}`;
  if (d.kernel?.read().rank !== 2) return `${where}: the layer is not built`;
  return {
    units: d.units,
    kernel: d.kernel,
    bias: d.useBias && d.bias ? d.bias : null,
    activation: layer.getConfig().activation as StackActivation | "softmax",
    alpha: 0.3,
    dropout,
    l2,
    batchNorm: null,
  };
}

/** A BatchNormalization layer over the last axis, with its gamma/beta and moving-statistics handles. */
function batchNormPlan(layer: tf.layers.Layer, where: string, position: "after" | "before", dropout: number): BatchNormPlan | string {
  const b = layer as unknown as {
    axis: number;
    momentum: number;
    epsilon: number;
    center: boolean;
    scale: boolean;
    gamma?: WeightHandle | null;
    beta?: WeightHandle | null;
    movingMean?: WeightHandle;
    movingVariance?: WeightHandle;
    gammaRegularizer?: unknown;
    betaRegularizer?: unknown;
    gammaConstraint?: unknown;
    betaConstraint?: unknown;
  };
  if (!layer.trainable) return `${where}: frozen (trainable false) layers are not covered`;
  if (b.axis !== -1 && b.axis !== 1) return `${where}: BatchNormalization over axis ${b.axis} is not covered, only the last (-1)`;
  if (b.gammaRegularizer || b.betaRegularizer) return `${where}: gamma/beta regularizers are not covered`;
  if (b.gammaConstraint || b.betaConstraint) return `${where}: gamma/beta constraints are not covered`;
  if (!b.movingMean || !b.movingVariance || (b.scale && !b.gamma) || (b.center && !b.beta)) return `${where}: the layer is not built`;
  return {
    position,
    dropout,
    momentum: b.momentum,
    epsilon: b.epsilon,
    center: b.center,
    scale: b.scale,
    gamma: b.scale ? b.gamma! : null,
    beta: b.center ? b.beta! : null,
    movingMean: b.movingMean,
    movingVariance: b.movingVariance,
  };
}

/** The l2 factor of a kernel regularizer (tf.regularizers.l2 is an L1L2 with l1 = 0). */
function kernelL2(regularizer: unknown): number | string {
  if (!regularizer) return 0;
  const r = regularizer as { getClassName?: () => string; l1?: number; l2?: number };
  if (r.getClassName?.() !== "L1L2") return `kernel regularizer ${r.getClassName?.() ?? "?"} is not covered`;
  if (r.l1) return `l1 regularization (${r.l1}) is not covered, only l2`;
  return r.l2 ?? 0;
}

/** Activation layers folded into the Dense before them: Activation, LeakyReLU, ReLU, ELU, Softmax. */
function activationLayer(layer: tf.layers.Layer, where: string): Pick<DenseBlock, "activation" | "alpha"> | string {
  const l = layer as unknown as { alpha?: number; maxValue?: number | null; axis?: number };
  switch (layer.getClassName()) {
    case "Activation":
      return { activation: layer.getConfig().activation as StackActivation, alpha: 0.3 };
    case "LeakyReLU":
      return { activation: "leakyRelu", alpha: l.alpha ?? 0.3 };
    case "ReLU":
      if (l.maxValue == null) return { activation: "relu", alpha: 0.3 };
      if (l.maxValue === 6) return { activation: "relu6", alpha: 0.3 };
      return `${where}: ReLU with maxValue ${l.maxValue} is not covered`;
    case "ELU":
      // tfjs-layers' ELU layer refuses any alpha but its default 1, the elu activation's.
      return { activation: "elu", alpha: 0.3 };
    case "Softmax":
      return l.axis == null || l.axis === -1
        ? { activation: "softmax", alpha: 0.3 }
        : `${where}: softmax over axis ${l.axis} is not covered`;
    default:
      return `${where} is not covered by the fast steps`;
  }
}

function describeLoss(loss: unknown): string {
  if (loss === undefined) return "nothing (not compiled)";
  return typeof loss === "string"
    ? loss
    : typeof loss === "function"
      ? `a function (${loss.name || "anonymous"})`
      : "a list or map of losses";
}
