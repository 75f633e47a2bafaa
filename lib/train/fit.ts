import * as tf from "@tensorflow/tfjs";
import type { ExperimentConfig } from "../config";
import type { LabeledImages } from "../data/images";
import type { History, Logs, TrainCallbacks, TrainState } from "./callbacks/callback";
import type { CurvesRenderer } from "./callbacks/live";
import { kerasProgress, type ProgressMode, resolveProgressMode } from "./callbacks/progress";
import { lastInterruptSignal, onInterrupt } from "./interrupt";
import { learningRateOf, setLearningRate } from "../optimizers";
import { ReduceLrOnPlateau, scheduledLearningRate } from "./schedules";
import { seededRandom, shuffledIndices } from "./shuffle";
import { compiledLoss, countCorrect, type StepResult, trainStep } from "./step";
import { type BackendInfo, initBackend } from "../engine/backend";
import { NATIVE_BACKEND, type NativeDenseStep, nativeDenseStep } from "../engine/native";

export type { LabeledImages };

/** Training could not go on (e.g. the loss became NaN); names the epoch and batch. */
export class TrainingError extends Error {
  override name = "TrainingError";
  constructor(
    message: string,
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(message);
  }
}

const YIELD_EVERY_MS = 100;

export interface TrainOptions {
  callbacks?: TrainCallbacks | TrainCallbacks[];
  /**
   * "bar": Keras's progress bar (terminal); "live": the bar and curves redrawn in place in a notebook; "epoch": one
   * line per epoch (logs, plain notebooks); "none". Default: live in a tslab kernel, bar on a TTY, else epoch.
   */
  progress?: ProgressMode;
  /** With progress "live": draws the learning curves after each epoch (e.g. `liveCurvesRenderer()` from figures/render). */
  liveCurves?: CurvesRenderer;
  /** The history so far when resuming; training continues after its last epoch and the returned history extends it. */
  initialHistory?: History;
  /**
   * State carried across epochs besides weights and optimizer: train() reads it when resuming and
   * rewrites it at every epoch end, before the callbacks run, so a checkpoint callback can save it.
   */
  state?: TrainState;
}

export type TrainConfig = Pick<ExperimentConfig, "epochs" | "batchSize" | "seed"> &
  Partial<Pick<ExperimentConfig, "learningRate" | "lrSchedule" | "clipNorm" | "clipValue">>;

// Validation and evaluation use large batches: the result is the same mean, far fewer kernel calls.
const EVAL_BATCH = 2048;

/**
 * `model.fit(X_train, y_train, epochs, validation_data=(X_valid, y_valid))` as a lean loop on the
 * layers model's own variables, loss and optimizer. Batches are copied from a seeded shuffle of the
 * training rows in JS (tf.gather is slower than the step itself, and tfjs's fit shuffles with
 * Math.random), so the same seed and backend give the same history.
 */
export async function train(
  model: tf.LayersModel,
  data: { train: LabeledImages; valid?: LabeledImages },
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<History> {
  const { x, y } = data.train;
  const samples = x.shape[0]!;
  const rowSize = x.data.length / samples;
  const steps = Math.ceil(samples / config.batchSize);
  const params = { epochs: config.epochs, steps, batchSize: config.batchSize, samples };
  const progress = resolveProgressMode(options.progress);
  const callbacks = [kerasProgress(progress, undefined, { curves: options.liveCurves }), ...[options.callbacks ?? []].flat()];
  const history: History = options.initialHistory ? copyHistory(options.initialHistory, params) : { epoch: [], history: {}, params };
  // Dropout masks come from a stream restarted every epoch from (seed, epoch), so a resume draws the same ones.
  let dropoutRandom = seededRandom(config.seed);
  backendSwitch = undefined;
  const native = await nativeStepFor(model, config);
  const step = native ? null : trainStep(model, { random: () => dropoutRandom(), clipNorm: config.clipNorm, clipValue: config.clipValue });
  const trainLabels = native ? typedLabels(y.data) : null;
  const random = seededRandom(config.seed);
  const initialEpoch = history.epoch.length;
  // Advance the shuffle stream so a resumed run sees the same batch order as an uninterrupted one.
  for (let e = 0; e < initialEpoch; e++) shuffledIndices(samples, random);
  const rate = learningRateControl(model, config, steps, options.state);

  const started = performance.now();
  model.stopTraining = false;
  // Ctrl-C in a terminal and Jupyter's interrupt button both send SIGINT: finish the batch, keep the last
  // completed epoch, return. (An interrupted `await` in tslab would otherwise leave training running.)
  const release = await onInterrupt(() => {
    model.stopTraining = true;
  });
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.(params);
    for (let epoch = initialEpoch; epoch < config.epochs && !model.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const order = shuffledIndices(samples, random);
      dropoutRandom = seededRandom((config.seed + 0x5eed * (epoch + 1)) >>> 0);
      native?.trainer.setSeed((config.seed + 0x5eed * (epoch + 1)) >>> 0);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lastYield = performance.now();
      for (let b = 0; b < steps && !model.stopTraining; b++) {
        const start = b * config.batchSize;
        const idx = order.subarray(start, Math.min(start + config.batchSize, samples));
        rate?.beforeStep(epoch * steps + b);
        let result: StepResult;
        if (native && trainLabels) {
          // The addon gathers the rows itself and prefetches the next batch's while this one computes.
          result = native.rows(x.data, trainLabels, idx, order.subarray(start + config.batchSize, start + 2 * config.batchSize));
        } else {
          const xb = gatherRows(x.data, rowSize, idx, x.shape);
          result = step!(xb, gatherLabels(y.data, idx));
          xb.dispose();
        }
        if (!Number.isFinite(result.loss)) {
          throw new TrainingError(
            `loss became ${result.loss} at epoch ${epoch + 1}, batch ${b + 1}/${steps}: training diverged ` +
              `(learning rate too high?); weights after epoch ${epoch} are the last good ones`,
            epoch,
            b,
          );
        }
        lossSum += result.loss * idx.length;
        correct += result.correct;
        seen += idx.length;
        const logs = { batch: b, size: idx.length, loss: lossSum / seen, accuracy: correct / seen };
        for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
        // wasm kernels run synchronously: yield now and then so signals, timers and the progress bar get a turn.
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      // A stop in the middle of an epoch discards that epoch, so the history (and a resume) start from a whole one.
      if (seen < samples) break;
      const logs: Logs = { loss: lossSum / seen, accuracy: correct / seen };
      if (data.valid) {
        const v = native ? nativeEvaluate(native, data.valid) : evaluateArrays(model, data.valid);
        logs.val_loss = v.loss;
        logs.val_accuracy = v.accuracy;
      }
      rate?.afterEpoch(logs);
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) {
        const values = history.history[k] ?? [];
        values.push(v);
        history.history[k] = values;
      }
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    history.stopped = model.stopTraining && history.epoch.length < config.epochs;
    const signal = lastInterruptSignal();
    if (history.stopped && signal && progress !== "none" && progress !== "live") {
      // In a notebook this is the line under tslab's "Interrupted asynchronously": training really stopped.
      // (The live view says it in its own output.)
      console.log(`Training stopped by ${signal} after epoch ${history.epoch.length}/${config.epochs}; the completed epochs are kept.`);
    }
    history.seconds = (options.initialHistory?.seconds ?? 0) + (performance.now() - started) / 1000;
    for (const cb of callbacks) await cb.onTrainEnd?.(history);
  } finally {
    release();
  }
  return history;
}

/**
 * The learning-rate schedule in the loop: the rate of every step (Keras evaluates a schedule at
 * optimizer.iterations, here epoch·steps + batch, the same count in an uninterrupted or resumed run),
 * ReduceLROnPlateau's decision at each epoch end, and `learning_rate` in the epoch's logs as Keras's
 * callbacks record it: the rate the epoch ended with. null without a schedule, so the tutorial's history is unchanged.
 */
function learningRateControl(model: tf.LayersModel, config: TrainConfig, steps: number, state: TrainState | undefined) {
  const schedule = config.lrSchedule;
  const optimizer = model.optimizer;
  if (!schedule || !optimizer) return null;
  const base = config.learningRate ?? learningRateOf(optimizer);
  const plateau = schedule.type === "reduce_on_plateau" ? new ReduceLrOnPlateau(schedule, base) : null;
  if (plateau && state?.plateau) plateau.restore(state.plateau);
  let current = learningRateOf(optimizer);
  return {
    beforeStep(iteration: number) {
      const lr = scheduledLearningRate(schedule, plateau ? plateau.learningRate : base, iteration, config.epochs * steps);
      if (lr !== current) setLearningRate(optimizer, lr);
      current = lr;
    },
    afterEpoch(logs: Logs) {
      logs.learning_rate = current;
      if (!plateau) return;
      if (logs.val_loss === undefined) throw new Error("lrSchedule reduce_on_plateau monitors val_loss; train with validation data");
      plateau.onEpochEnd(logs.val_loss);
      if (state) state.plateau = plateau.state();
    },
  };
}

const nativeNotes = new Set<string>();

// Layers whose backward pass tfjs's wasm backend has kernels for (the tutorial's and chapter 11's).
const WASM_TRAINS = new Set(["InputLayer", "Flatten", "Reshape", "Dense", "Dropout", "BatchNormalization", "Activation", "LeakyReLU"]);

/** A model train() moved off the backend chosen at start: from, to (its BackendInfo) and why. */
export interface BackendSwitch {
  from: string;
  to: BackendInfo;
  reason: string;
}
let backendSwitch: BackendSwitch | undefined;

/**
 * The last train() call's move off the backend chosen at start, or undefined if it trained where it started: so
 * environment.json can name the engine that really trained (metrics.json reads tf.getBackend() after training).
 */
export function lastBackendSwitch(): BackendSwitch | undefined {
  return backendSwitch;
}

/**
 * The fused native step when the native backend runs and covers this model. A model it does not cover
 * (a layer built by hand, tfjs's own Adadelta rule) trains with the tfjs step on wasm instead, whose elementwise
 * kernels are far faster than the cpu backend's the native backend inherits; tfjs moves the variables
 * over on first use. The reason is said once per process.
 */
async function nativeStepFor(model: tf.LayersModel, config: TrainConfig): Promise<NativeDenseStep | null> {
  if (tf.getBackend() !== NATIVE_BACKEND) return null;
  const choice = nativeDenseStep(model, {
    maxBatch: config.batchSize,
    clipnorm: config.clipNorm ?? undefined,
    clipvalue: config.clipValue ?? undefined,
    seed: config.seed,
  });
  if (choice.step) return choice.step;
  const note = `native engine: ${choice.reason}; ${await moveOffNative(model, choice.reason)}`;
  if (!nativeNotes.has(note)) {
    nativeNotes.add(note);
    console.log(note);
  }
  return null;
}

/** Where a model the fused step does not cover trains instead (wasm where it can), said as the note ends. */
async function moveOffNative(model: tf.LayersModel, reason: string): Promise<string> {
  // tfjs's wasm backend lacks some gradient kernels (Conv2DBackpropFilter, MaxPoolGrad): a hand-built CNN stays here.
  const foreign = model.layers.find((l) => !WASM_TRAINS.has(l.getClassName()));
  if (foreign) return `this model trains with the tfjs step on the native backend (wasm cannot train its ${foreign.getClassName()} layer)`;
  try {
    const info = await initBackend({ backend: "wasm" });
    backendSwitch = { from: NATIVE_BACKEND, to: info, reason };
    return `this model trains on ${info.name} instead`;
  } catch (err) {
    return `this model trains with the tfjs step on the native backend (wasm did not start: ${(err as Error).message.split("\n")[0]})`;
  }
}

/** The label arrays the addon reads without a copy; anything else is copied once. */
function typedLabels(labels: ArrayLike<number>): Uint8Array | Int32Array | Float32Array {
  return labels instanceof Uint8Array || labels instanceof Int32Array || labels instanceof Float32Array
    ? labels
    : Float32Array.from(labels);
}

function nativeEvaluate(step: NativeDenseStep, set: LabeledImages): { loss: number; accuracy: number } {
  const n = set.x.shape[0] ?? 0;
  const r = step.evaluate(set.x.data, typedLabels(set.y.data), n);
  return { loss: r.loss, accuracy: r.correct / n };
}

function copyHistory(h: History, params: History["params"]): History {
  return {
    epoch: [...h.epoch],
    history: Object.fromEntries(Object.entries(h.history).map(([k, v]) => [k, [...v]])),
    params,
    seconds: h.seconds,
  };
}

/** Mean loss and accuracy of `model` on a labelled set, in large batches, without gradients. */
export function evaluateArrays(model: tf.LayersModel, set: LabeledImages): { loss: number; accuracy: number } {
  const n = set.x.shape[0]!;
  const rowSize = set.x.data.length / n;
  const lossFn = compiledLoss(model);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += EVAL_BATCH) {
    const end = Math.min(start + EVAL_BATCH, n);
    const [l, c] = tf.tidy(() => {
      const xb = tf.tensor(set.x.data.subarray(start * rowSize, end * rowSize), [end - start, ...set.x.shape.slice(1)]);
      const yb = tf.tensor1d(
        Float32Array.from({ length: end - start }, (_, i) => set.y.data[start + i]!),
        "float32",
      );
      const probs = model.apply(xb, { training: false }) as tf.Tensor;
      return [tf.sum(lossFn(yb, probs)), countCorrect(probs, yb)].map((t) => t.dataSync()[0]!);
    });
    lossSum += l!;
    correct += c!;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

function gatherRows(data: Float32Array, rowSize: number, idx: Uint32Array, shape: readonly number[]): tf.Tensor {
  const out = new Float32Array(idx.length * rowSize);
  for (let i = 0; i < idx.length; i++) {
    const from = idx[i]! * rowSize;
    out.set(data.subarray(from, from + rowSize), i * rowSize);
  }
  return tf.tensor(out, [idx.length, ...shape.slice(1)]);
}

function gatherLabels(labels: ArrayLike<number>, idx: Uint32Array): Float32Array {
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = labels[idx[i]!]!;
  return out;
}
