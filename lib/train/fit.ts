import * as tf from "@tensorflow/tfjs";
import type { ExperimentConfig } from "../config";
import type { LabeledImages } from "../data/images";
import type { History, Logs, TrainCallbacks, TrainState } from "./callbacks/callback";
import type { CurvesRenderer } from "./callbacks/live";
import { kerasProgress, type ProgressMode, resolveProgressMode } from "./callbacks/progress";
import { lastInterruptSignal, letEventsIn, onInterrupt } from "./interrupt";
import { learningRateOf, setLearningRate } from "../optimizers";
import { ReduceLrOnPlateau, scheduledLearningRate } from "./schedules";
import { seededRandom, shuffledIndices } from "./shuffle";
import { countCorrect, type Step, type StepResult, trainStep } from "./step";
import { chooseEngine } from "./engine-choice";
import type { NativeDenseStep } from "../engine/native";
import { compiledLossFunction } from "../model/compiled";
import { UserError } from "../errors/user-error";

export type { LabeledImages };
export type { BackendSwitch, TrainingEngine } from "./engine-choice";

/**
 * Training could not go on: the loss became NaN or infinite (Keras's TerminateOnNaN stops there too); names the epoch
 * and batch. `history` holds the epochs completed before it, with `diverged` set, for the run folder to record.
 */
export class TrainingError extends UserError {
  override name = "TrainingError";
  constructor(
    message: string,
    readonly epoch: number,
    readonly batch: number,
    readonly history?: History,
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
 * Math.random), so the same seed and backend give the same history. The history's `engine` names the
 * engine it trained on (chosen once, before the first batch).
 */
export async function train(
  model: tf.LayersModel,
  data: { train: LabeledImages; valid?: LabeledImages },
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<History> {
  const loop = await startLoop(model, data.train, config, options);
  const { history, callbacks } = loop;
  const started = performance.now();
  model.stopTraining = false;
  // Ctrl-C in a terminal and Jupyter's interrupt button both send SIGINT: finish the batch, keep the last
  // completed epoch, return. (An interrupted `await` in tslab would otherwise leave training running.)
  const release = await onInterrupt(() => {
    model.stopTraining = true;
  });
  try {
    // A stop that came while the data and the model loaded (a search's late prune, a Ctrl-C) ends training here,
    // before its first batch.
    await letEventsIn();
    for (const cb of callbacks) await cb.onTrainBegin?.(history.params);
    for (let epoch = history.epoch.length; epoch < config.epochs && !model.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const totals = await trainEpoch(loop, epoch);
      // A stop in the middle of an epoch discards that epoch, so the history (and a resume) start from a whole one.
      if (totals.seen < loop.samples) break;
      const logs = endEpoch(loop, data.valid, totals, epoch);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    history.stopped = model.stopTraining && history.epoch.length < config.epochs;
    sayStopped(history, config.epochs, loop.progress);
    history.seconds = (options.initialHistory?.seconds ?? 0) + (performance.now() - started) / 1000;
    for (const cb of callbacks) await cb.onTrainEnd?.(history);
  } finally {
    release();
  }
  return history;
}

/** What the loop keeps across epochs: the data, the chosen step, the shuffle and dropout streams, the history. */
interface Loop {
  model: tf.LayersModel;
  config: TrainConfig;
  x: LabeledImages["x"];
  y: LabeledImages["y"];
  samples: number;
  steps: number;
  progress: ProgressMode;
  callbacks: TrainCallbacks[];
  history: History;
  native: NativeDenseStep | null;
  /** The tfjs step, when the native one does not train the model. */
  step: Step | null;
  trainLabels: Uint8Array | Int32Array | Float32Array | null;
  /** The batch order's stream. */
  random: () => number;
  /** Dropout masks come from a stream restarted every epoch from (seed, epoch), so a resume draws the same ones. */
  dropoutRandom: () => number;
  rate: ReturnType<typeof learningRateControl>;
  /**
   * When the loop last gave the event loop a turn. It runs across epochs: an epoch shorter than YIELD_EVERY_MS (a
   * small model on the native engine trains one in 60 ms) would otherwise never yield, and a Ctrl-C, a search's stop
   * or a timer would wait for the whole training.
   */
  lastYield: number;
}

/** Everything before the first batch: callbacks, history (resumed or new), the engine, the streams. */
async function startLoop(model: tf.LayersModel, trainSet: LabeledImages, config: TrainConfig, options: TrainOptions): Promise<Loop> {
  const { x, y } = trainSet;
  const samples = x.shape[0]!;
  const steps = Math.ceil(samples / config.batchSize);
  const params = { epochs: config.epochs, steps, batchSize: config.batchSize, samples };
  const progress = resolveProgressMode(options.progress);
  const callbacks = [kerasProgress(progress, undefined, { curves: options.liveCurves }), ...[options.callbacks ?? []].flat()];
  const { engine, native } = await chooseEngine(model, config);
  const history = {
    ...(options.initialHistory ? copyHistory(options.initialHistory, params) : { epoch: [], history: {}, params }),
    engine,
  };
  const loop: Loop = {
    model,
    config,
    x,
    y,
    samples,
    steps,
    progress,
    callbacks,
    history,
    native,
    step: null,
    trainLabels: native ? typedLabels(y.data) : null,
    random: seededRandom(config.seed),
    dropoutRandom: seededRandom(config.seed),
    rate: learningRateControl(model, config, steps, options.state),
    lastYield: performance.now(),
  };
  if (!native) loop.step = trainStep(model, { random: () => loop.dropoutRandom(), clipNorm: config.clipNorm, clipValue: config.clipValue });
  // Advance the shuffle stream so a resumed run sees the same batch order as an uninterrupted one.
  for (let e = 0; e < history.epoch.length; e++) shuffledIndices(samples, loop.random);
  return loop;
}

/** One epoch's batches: the summed loss, correct count and rows seen (fewer than all when training stopped). */
async function trainEpoch(loop: Loop, epoch: number): Promise<{ lossSum: number; correct: number; seen: number }> {
  const { config, samples, steps, native, model } = loop;
  const order = shuffledIndices(samples, loop.random);
  const dropoutSeed = (config.seed + 0x5eed * (epoch + 1)) >>> 0;
  loop.dropoutRandom = seededRandom(dropoutSeed);
  native?.trainer.setSeed(dropoutSeed);
  const totals = { lossSum: 0, correct: 0, seen: 0 };
  for (let b = 0; b < steps && !model.stopTraining; b++) {
    const start = b * config.batchSize;
    const idx = order.subarray(start, Math.min(start + config.batchSize, samples));
    loop.rate?.beforeStep(epoch * steps + b);
    const result = trainBatch(loop, order, start, idx);
    if (!Number.isFinite(result.loss)) {
      loop.history.diverged = { epoch, batch: b, loss: result.loss };
      loop.history.stopped = true;
      throw new TrainingError(
        `loss became ${result.loss} at epoch ${epoch + 1}, batch ${b + 1}/${steps}: training diverged ` +
          `(learning rate too high?); weights after epoch ${epoch} are the last good ones`,
        epoch,
        b,
        loop.history,
      );
    }
    totals.lossSum += result.loss * idx.length;
    totals.correct += result.correct;
    totals.seen += idx.length;
    const logs = { batch: b, size: idx.length, loss: totals.lossSum / totals.seen, accuracy: totals.correct / totals.seen };
    for (const cb of loop.callbacks) await cb.onBatchEnd?.(b, logs);
    // wasm kernels run synchronously: yield now and then so signals, timers and the progress bar get a turn.
    if (performance.now() - loop.lastYield > YIELD_EVERY_MS) {
      await letEventsIn();
      loop.lastYield = performance.now();
    }
  }
  return totals;
}

/** One step on the rows `idx` (which start at `start` in the epoch's `order`). */
function trainBatch(loop: Loop, order: Uint32Array, start: number, idx: Uint32Array): StepResult {
  const { native, trainLabels, x, y } = loop;
  if (native && trainLabels) {
    // The addon gathers the rows itself and prefetches the next batch's while this one computes.
    const batchSize = loop.config.batchSize;
    return native.rows(x.data, trainLabels, idx, order.subarray(start + batchSize, start + 2 * batchSize));
  }
  const xb = gatherRows(x.data, x.data.length / loop.samples, idx, x.shape);
  const result = loop.step!(xb, gatherLabels(y.data, idx));
  xb.dispose();
  return result;
}

/** The epoch's logs (validation included) into the history; returns them for the callbacks. */
function endEpoch(
  loop: Loop,
  valid: LabeledImages | undefined,
  totals: { lossSum: number; correct: number; seen: number },
  epoch: number,
): Logs {
  const logs: Logs = { loss: totals.lossSum / totals.seen, accuracy: totals.correct / totals.seen };
  if (valid) {
    const v = loop.native ? nativeEvaluate(loop.native, valid) : evaluateArrays(loop.model, valid);
    logs.val_loss = v.loss;
    logs.val_accuracy = v.accuracy;
  }
  loop.rate?.afterEpoch(logs);
  const history = loop.history;
  history.epoch.push(epoch);
  for (const [k, v] of Object.entries(logs)) {
    const values = history.history[k] ?? [];
    values.push(v);
    history.history[k] = values;
  }
  return logs;
}

/** In a notebook this is the line under tslab's "Interrupted asynchronously": training really stopped. */
function sayStopped(history: History, epochs: number, progress: ProgressMode): void {
  const signal = lastInterruptSignal();
  // The live view says it in its own output.
  if (history.stopped && signal && progress !== "none" && progress !== "live") {
    console.log(`Training stopped by ${signal} after epoch ${history.epoch.length}/${epochs}; the completed epochs are kept.`);
  }
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
      if (logs.val_loss === undefined) throw new UserError("lrSchedule reduce_on_plateau monitors val_loss; train with validation data");
      plateau.onEpochEnd(logs.val_loss);
      if (state) state.plateau = plateau.state();
    },
  };
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
  const lossFn = compiledLossFunction(model);
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
