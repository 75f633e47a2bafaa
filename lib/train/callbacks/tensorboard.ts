// Keras's TensorBoard callback (keras/src/callbacks/tensorboard.py), writing the same layout and tags so a run
// reads in TensorBoard as a Keras run does: <logDir>/train and <logDir>/validation, epoch_<metric> at step =
// epoch (0-based), epoch_learning_rate in train, batch_<metric> at the global batch, and
// <layer>/<weight>/histogram every histogramFreq epochs.
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { TensorBoardOptions } from "../../config";
import { histogramOf } from "../../tensorboard/histogram";
import { EventFileWriter } from "../../tensorboard/writer";
import { learningRateOf } from "../../optimizers";
import type { Logs, TrainCallbacks } from "./callback";

/** Where a run's TensorBoard logs go, as Keras's callback is usually given `<run>/logs`. */
export const TENSORBOARD_LOG_DIR = "logs";

/**
 * Writes `model`'s training to `logDir` as Keras's `TensorBoard(log_dir)` callback does. Each epoch's records are
 * flushed at its end, so a run killed mid-epoch leaves every finished epoch readable.
 */
export function tensorBoardCallback(model: tf.LayersModel, logDir: string, options: TensorBoardOptions): TrainCallbacks {
  let train: EventFileWriter | undefined;
  let validation: EventFileWriter | undefined;
  let steps = 0;
  let epochNow = 0;
  return {
    // The writers open at their first record, not at train begin: a run that fails in its first epoch leaves no
    // logs/, so its folder counts as an unstarted run that the same call may overwrite (runs/run.ts).
    onTrainBegin: (params) => {
      steps = params.steps;
    },
    onEpochBegin: (epoch) => {
      epochNow = epoch;
    },
    onBatchEnd: (batch, logs) => {
      if (options.updateFreq === "epoch") return;
      const step = epochNow * steps + batch;
      if (step % options.updateFreq !== 0) return;
      train ??= new EventFileWriter(path.join(logDir, "train"));
      train.summary(metricValues("batch_", logs), step);
    },
    onEpochEnd: (epoch, logs) => {
      train ??= new EventFileWriter(path.join(logDir, "train"));
      const trainLogs: Logs = Object.fromEntries(Object.entries(logs).filter(([k]) => !k.startsWith("val_")));
      // Keras reads the optimizer's rate when the logs have none (no schedule): the tutorial's constant 0.01.
      if (trainLogs.learning_rate === undefined && model.optimizer) trainLogs.learning_rate = learningRateOf(model.optimizer);
      train.summary(metricValues("epoch_", trainLogs), epoch);
      const valLogs = Object.entries(logs).filter(([k]) => k.startsWith("val_"));
      if (valLogs.length > 0) {
        validation ??= new EventFileWriter(path.join(logDir, "validation"));
        validation.summary(metricValues("epoch_", Object.fromEntries(valLogs.map(([k, v]) => [k.slice(4), v]))), epoch);
        validation.flush();
      }
      if (options.histogramFreq > 0 && epoch % options.histogramFreq === 0) train.summary(weightHistograms(model), epoch);
      train.flush();
    },
    onTrainEnd: () => {
      train?.close();
      validation?.close();
      train = validation = undefined;
    },
  };
}

// Keras's batch logs have the metrics only; train()'s also carry the batch index and size, which are not metrics.
function metricValues(prefix: string, logs: Logs) {
  return Object.entries(logs)
    .filter(([k, v]) => k !== "batch" && k !== "size" && Number.isFinite(v))
    .map(([k, v]) => ({ tag: `${prefix}${k}`, simpleValue: v }));
}

/** `<layer>/<weight>/histogram` for every weight, Keras's tag (weight.path with the layer's name). */
function weightHistograms(model: tf.LayersModel) {
  const values = [];
  for (const layer of model.layers) {
    for (const weight of layer.weights) {
      const name = weight.name.split("/").pop()!.replace(/_\d+$/, "");
      values.push({ tag: `${layer.name}/${name}/histogram`, histo: histogramOf(weight.read().dataSync() as Float32Array) });
    }
  }
  return values;
}

/**
 * The run's TensorBoard callback as a list to spread into train()'s callbacks: empty when the config turns it off,
 * the defaults when the config predates the field (a run folder saved before it, resumed).
 */
export function tensorBoardCallbacks(
  model: tf.LayersModel,
  logDir: string,
  options: TensorBoardOptions | false | undefined,
): TrainCallbacks[] {
  if (options === false) return [];
  return [tensorBoardCallback(model, logDir, options ?? TensorBoardOptions.parse({}))];
}
