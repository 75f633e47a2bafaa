import * as tf from "@tensorflow/tfjs";
import { NATIVE_ACTIVATIONS, type NativeActivation, type TrainerLayerSpec } from "./addon";

/*
 * Which tfjs models the fused native step covers, read from the layers themselves: a Sequential of an
 * optional Flatten, then Dense layers (each optionally preceded by Dropout and followed by an activation
 * layer and a BatchNormalization, in either order), the last one softmax, compiled with sparse
 * categorical cross-entropy. Anything else gets a
 * reason naming the layer, so the caller can say why it trains on the generic path.
 */

/** A layer weight as tfjs-layers holds it: read() gives the live tf.Variable. */
export interface WeightHandle {
  read(): tf.Tensor;
}

export interface DensePlan {
  /** Values per input row, i.e. the first Dense layer's fan-in (784 for Flatten of 28x28). */
  inputSize: number;
  layers: TrainerLayerSpec[];
  /** Trainable weights in the trainer's (and tfjs's trainableWeights) order: kernel, bias, BN gamma, BN beta per layer. */
  weights: WeightHandle[];
  /** The BatchNormalization layers' moving mean and moving variance, in layer order (the trainer's buffers). */
  buffers: WeightHandle[];
  /** The first Dropout layer's seed, if it has one. */
  seed?: number;
}

const LOSS_NAMES = ["sparseCategoricalCrossentropy", "sparse_categorical_crossentropy"];

/** The trainer's view of `model`, or why the fused step does not cover it. */
export function planDenseStack(model: tf.LayersModel): DensePlan | string {
  if (!(model instanceof tf.Sequential)) return "the native step covers Sequential models only";
  const loss = compiledLoss(model);
  if (!LOSS_NAMES.includes(loss as string))
    return `the native step needs the sparseCategoricalCrossentropy loss, the model is compiled with ${describeLoss(loss)}`;
  const layers: TrainerLayerSpec[] = [];
  const weights: WeightHandle[] = [];
  const buffers: WeightHandle[] = [];
  const normalized = new Map<TrainerLayerSpec, string>();
  let dropout: number | null = null;
  let seed: number | undefined;
  let flattened = false;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    const where = `layer ${layer.name} (${kind})`;
    if (kind === "InputLayer") continue;
    if (kind === "Flatten") {
      if (layers.length > 0 || dropout !== null) return `${where}: Flatten is covered only before the first Dense layer`;
      flattened = true;
      continue;
    }
    if (kind === "Dropout") {
      const d = layer as unknown as { rate: number; noiseShape?: unknown; seed?: number };
      if (dropout !== null) return `${where}: two Dropout layers in a row are not covered`;
      if (d.noiseShape != null) return `${where}: Dropout with a noiseShape is not covered`;
      if (!(d.rate < 1)) return `${where}: Dropout rate ${d.rate} drops everything`;
      dropout = d.rate;
      seed ??= d.seed;
      continue;
    }
    if (kind === "Dense") {
      const dense = denseLayer(layer, where, dropout ?? 0);
      if (typeof dense === "string") return dense;
      layers.push(dense.spec);
      weights.push(...dense.weights);
      dropout = null;
      continue;
    }
    if (kind === "BatchNormalization") {
      const prev = layers[layers.length - 1];
      if (!prev || dropout !== null) return `${where}: BatchNormalization is covered only right after a Dense layer or its activation`;
      if (prev.batchNorm) return `${where}: a second BatchNormalization on one Dense layer is not covered`;
      // After a linear Dense it normalizes the pre-activations (Géron's BN before the activation).
      const bn = batchNormLayer(layer, where, prev.activation === "linear" ? "before" : "after");
      if (typeof bn === "string") return bn;
      prev.batchNorm = bn.spec;
      weights.push(...bn.weights);
      buffers.push(...bn.buffers);
      normalized.set(prev, where);
      continue;
    }
    const post = activationLayer(layer, where);
    if (typeof post === "string") return post;
    const prev = layers[layers.length - 1];
    if (!prev || dropout !== null) return `${where}: an activation layer is covered only right after a Dense layer`;
    if (prev.activation !== "linear") return `${where}: follows a Dense layer that already has activation ${prev.activation}`;
    Object.assign(prev, post);
  }
  if (dropout !== null) return "a Dropout after the last Dense layer is not covered";
  const output = normalized.get(layers[layers.length - 1]!);
  if (output) return `${output}: BatchNormalization on the output layer is not covered`;
  return finish(model, layers, weights, buffers, flattened, seed);
}

/** Checks the whole stack: hidden activations covered, softmax last, input width consistent. */
function finish(
  model: tf.Sequential,
  layers: TrainerLayerSpec[],
  weights: WeightHandle[],
  buffers: WeightHandle[],
  flattened: boolean,
  seed: number | undefined,
): DensePlan | string {
  if (layers.length === 0) return "the model has no Dense layer";
  for (const [i, l] of layers.entries()) {
    const last = i === layers.length - 1;
    if (last && l.activation !== "softmax") return `the last Dense layer's activation is ${l.activation}; the native step needs softmax`;
    if (!last && !(NATIVE_ACTIVATIONS as readonly string[]).includes(l.activation!))
      return `hidden activation ${l.activation} is not covered by the native step`;
  }
  const inputShape = model.inputs[0]!.shape.slice(1);
  if (!flattened && inputShape.length !== 1)
    return `the input is [${inputShape.join(", ")}] without a Flatten layer, so Dense acts on its last axis only`;
  const inputSize = weights[0]!.read().shape[0]!;
  const flat = inputShape.reduce<number>((p, d) => p * (d ?? NaN), 1);
  if (flat !== inputSize) return `the input has ${flat} values a row, the first Dense layer expects ${inputSize}`;
  return { inputSize, layers, weights, buffers, seed };
}

/** A Dense layer as a trainer layer, with its kernel (and bias) handles. */
function denseLayer(layer: tf.layers.Layer, where: string, dropout: number): { spec: TrainerLayerSpec; weights: WeightHandle[] } | string {
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
  const activation = layer.getConfig().activation as string;
  return {
    spec: { units: d.units, activation: activation as NativeActivation | "softmax", dropout, l2, useBias: d.useBias },
    weights: d.useBias && d.bias ? [d.kernel, d.bias] : [d.kernel],
  };
}

/** A BatchNormalization layer over the last axis as the trainer's spec, with its gamma/beta and moving-statistics handles. */
function batchNormLayer(
  layer: tf.layers.Layer,
  where: string,
  position: "after" | "before",
): { spec: NonNullable<TrainerLayerSpec["batchNorm"]>; weights: WeightHandle[]; buffers: WeightHandle[] } | string {
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
    spec: { position, momentum: b.momentum, epsilon: b.epsilon, center: b.center, scale: b.scale },
    weights: [...(b.scale ? [b.gamma!] : []), ...(b.center ? [b.beta!] : [])],
    buffers: [b.movingMean, b.movingVariance],
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
function activationLayer(layer: tf.layers.Layer, where: string): Pick<TrainerLayerSpec, "activation" | "alpha"> | string {
  const l = layer as unknown as { alpha?: number; maxValue?: number | null; axis?: number };
  switch (layer.getClassName()) {
    case "Activation":
      return { activation: layer.getConfig().activation as NativeActivation };
    case "LeakyReLU":
      return { activation: "leakyRelu", alpha: l.alpha };
    case "ReLU":
      if (l.maxValue == null) return { activation: "relu" };
      if (l.maxValue === 6) return { activation: "relu6" };
      return `${where}: ReLU with maxValue ${l.maxValue} is not covered`;
    case "ELU":
      return { activation: "elu" };
    case "Softmax":
      return l.axis == null || l.axis === -1 ? { activation: "softmax" } : `${where}: softmax over axis ${l.axis} is not covered`;
    default:
      return `${where} is not covered by the native step`;
  }
}

/** Sequential hands compile() to an inner model, which holds the loss as given. */
function compiledLoss(model: tf.LayersModel): unknown {
  const inner = (model as unknown as { model?: { loss?: unknown } }).model;
  return inner?.loss ?? (model as unknown as { loss?: unknown }).loss;
}

function describeLoss(loss: unknown): string {
  if (loss === undefined) return "nothing (not compiled)";
  return typeof loss === "string"
    ? loss
    : typeof loss === "function"
      ? `a function (${loss.name || "anonymous"})`
      : "a list or map of losses";
}
