import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { type BatchNormPlan, type DenseStackPlan, planDenseStack } from "../../model/dense-stack";
import {
  loadAddon,
  type NativeCounters,
  type NativeLabels,
  type NativeStepResult,
  type NativeTrainer,
  type TrainerBatchNormSpec,
  type TrainerLayerSpec,
} from "./addon";
import { NATIVE_BACKEND } from "./backend";
import { VariableBinding } from "./binding";
import { planOptimizer, sameHyperParameters } from "./slots";

/*
 * The fused native training step for a Dense stack (model/dense-stack.ts says which models): one addon call per
 * batch does the forward pass, Keras's sparse cross-entropy, the backward pass and the optimizer update,
 * in place on the tfjs variables' own buffers (./binding.ts). The model stays an ordinary LayersModel:
 * predict, getWeights, save and the optimizer's getWeights/setWeights see every update.
 */

export interface NativeStepOptions {
  /** Rows the scratch buffers are sized for (a larger batch grows them). Default 32. */
  maxBatch?: number;
  /** Per-variable gradient norm limit, as Keras's `clipnorm`. */
  clipnorm?: number;
  /** Element-wise gradient limit, as Keras's `clipvalue`. */
  clipvalue?: number;
  /** Seed of the dropout masks' random stream; default the first Dropout layer's seed, else 42. */
  seed?: number;
  /** Keep each step's gradients for step.gradients() (slower: no fused SGD update). */
  keepGradients?: boolean;
}

/**
 * Trains on one batch: `xb` is [n, inputSize] row-major (pixels 0..1), `labels` n class indices;
 * n defaults to labels.length. Returns the batch's mean loss (with any l2 penalty) and correct count.
 */
export interface NativeDenseStep {
  (xb: Float32Array, labels: NativeLabels, n?: number): NativeStepResult;
  /**
   * The same step on rows `rows` (e.g. a slice of the epoch's shuffled order) of the whole training set
   * x [N, inputSize] and labels [N]: the rows are gathered natively, so the loop copies nothing. Pass
   * the next batch's rows as `next` and they are prefetched from memory while this step computes.
   */
  rows(x: Float32Array, labels: NativeLabels, rows: Uint32Array | Int32Array, next?: Uint32Array | Int32Array): NativeStepResult;
  /**
   * Mean loss (with any l2 penalty, as Keras's val_loss) and correct count of the current weights on a
   * labelled set: forward only, no dropout, no update.
   */
  evaluate(x: Float32Array, labels: NativeLabels, n?: number): NativeStepResult;
  /** Softmax probabilities [n, classes] of n rows. */
  predict(x: Float32Array, n: number): Float32Array;
  /** The gradients the last step applied, by variable name (needs keepGradients). */
  gradients(): Map<string, Float32Array>;
  /** e.g. "784 → 300 relu → 100 relu → 10 softmax, SGD lr 0.01". */
  readonly description: string;
  readonly trainer: NativeTrainer;
}

let latestTrainer: NativeTrainer | undefined;

/** Where the most recently created native step spent its time (the bench reports the share in matrix products). */
export function latestNativeCounters(): NativeCounters | undefined {
  return latestTrainer?.counters();
}

export type NativeStepChoice = { step: NativeDenseStep; reason?: undefined } | { step: null; reason: string };

/**
 * The fused step for `model` (compiled, with the "native" backend, or any cpu-derived one, active),
 * or the reason it does not apply. The optimizer is the model's own: its learning rate and momentum
 * are read before every step, so schedules keep working, and its iteration count advances.
 */
export function nativeDenseStep(model: tf.LayersModel, options: NativeStepOptions = {}): NativeStepChoice {
  const load = loadAddon();
  if (!load.addon) return { step: null, reason: load.reason };
  const backend = tf.backend();
  if (!(backend instanceof MathBackendCPU))
    return { step: null, reason: `the native step needs the ${NATIVE_BACKEND} backend active, the current one is ${tf.getBackend()}` };
  const plan = planDenseStack(model);
  if (typeof plan === "string") return { step: null, reason: plan };
  const stack = { ...plan, layers: trainerLayers(plan) };
  const optimizer = model.optimizer;
  const optimizerPlan = planOptimizer(optimizer);
  if (typeof optimizerPlan === "string") return { step: null, reason: optimizerPlan };

  let hyper = optimizerPlan.update.rule();
  const trainer = new load.addon.Trainer({
    inputSize: stack.inputSize,
    maxBatch: options.maxBatch ?? 32,
    layers: stack.layers,
    ...(plan.inputBatchNorm && { inputBatchNorm: trainerBatchNorm(plan.inputBatchNorm) }),
    optimizer: hyper,
    clipnorm: options.clipnorm ?? 0,
    clipvalue: options.clipvalue ?? 0,
    seed: options.seed ?? stack.seed ?? 42,
    keepGradients: options.keepGradients ?? false,
  });
  latestTrainer = trainer;
  const binding = new VariableBinding(backend, trainer, stack.weights, optimizerPlan, stack.buffers);
  binding.bindAll();

  // Before each call: same backend, buffers still private to their variables, hyper-parameters current.
  const sync = () => {
    if (tf.backend() !== backend)
      throw new Error(`native step: the tfjs backend changed to ${tf.getBackend()} after the step was created; create it again`);
    binding.refresh();
    const now = optimizerPlan.update.rule();
    if (!sameHyperParameters(now, hyper)) {
      trainer.setOptimizer(now);
      hyper = now;
    }
  };
  const classes = stack.layers[stack.layers.length - 1]!.units;
  const step = ((xb: Float32Array, labels: NativeLabels, n = labels.length) => {
    sync();
    const result = trainer.step(xb, labels, n);
    optimizerPlan.variables.countStep();
    return result;
  }) as NativeDenseStep;
  return {
    step: Object.assign(step, {
      rows: (x: Float32Array, labels: NativeLabels, rows: Uint32Array | Int32Array, next?: Uint32Array | Int32Array) => {
        sync();
        const result = trainer.stepRows(x, labels, rows, next);
        optimizerPlan.variables.countStep();
        return result;
      },
      evaluate: (x: Float32Array, labels: NativeLabels, n = labels.length) => {
        sync();
        return trainer.evaluate(x, labels, n);
      },
      predict: (x: Float32Array, n: number) => {
        sync();
        const out = new Float32Array(n * classes);
        trainer.predict(x, n, out);
        return out;
      },
      gradients: () => new Map(stack.weights.map((w, i) => [(w.read() as tf.Variable).name, trainer.gradient(i)] as const)),
      description: describe(plan, stack.layers, optimizer.getClassName(), hyper.learningRate),
      trainer,
    }),
  };
}

/** The plan's blocks as the trainer's layers: the same fields, without the weight handles. */
function trainerLayers(plan: DenseStackPlan): TrainerLayerSpec[] {
  return plan.blocks.map((b) => ({
    units: b.units,
    activation: b.activation,
    alpha: b.alpha,
    dropout: b.dropout,
    l2: b.l2,
    useBias: b.bias !== null,
    ...(b.batchNorm && { batchNorm: trainerBatchNorm(b.batchNorm) }),
  }));
}

function trainerBatchNorm(bn: BatchNormPlan): TrainerBatchNormSpec {
  const { position, dropout, momentum, epsilon, center, scale } = bn;
  return { position, dropout, momentum, epsilon, center, scale };
}

function describe(plan: DenseStackPlan, layers: TrainerLayerSpec[], optimizer: string, learningRate: number): string {
  const parts = layers.map((l) => {
    const dropped = l.batchNorm?.dropout ? ` + dropout ${l.batchNorm.dropout}` : "";
    const bn = l.batchNorm ? (l.batchNorm.position === "before" ? `${dropped} (BN before ${l.activation})` : `${dropped} + BN`) : "";
    const units = l.batchNorm?.position === "before" ? `${l.units}${bn}` : `${l.units} ${l.activation}${bn}`;
    return `${l.dropout ? `dropout ${l.dropout} → ` : ""}${units}${l.l2 ? ` (l2 ${l.l2})` : ""}`;
  });
  return `${plan.inputSize}${plan.inputBatchNorm ? " + BN" : ""} → ${parts.join(" → ")}, ${optimizer} lr ${learningRate}`;
}
