// A model built by hand (Géron's Sequential API, a CNN, anything compiled) trained into a run folder like a config-built
// one: config.json records what is known and marks the architecture "custom", model.json holds the architecture
// (Keras's model.to_json()), config.json's optimizerConfig the optimizer (class and getConfig()), so `compare`, `report`
// and `train --resume` can read it without the config fields that describe the tutorial's MLP.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { type ExperimentConfig, resolveConfig } from "../config";
import type { BackendInfo } from "../engine/backend";
import { initBackend } from "../engine/backend";
import type { Images, LabeledImages } from "../data/images";
import { loadModel } from "../model/files";
import { modelSummary } from "../model/summary";
import { evaluate, type TestMetrics } from "../results/evaluate";
import type { History, TrainCallbacks } from "../train/callbacks/callback";
import { type CheckpointPointer, checkpointedCallbacks, readOptimizer, readPointer } from "../train/callbacks/checkpoint";
import type { CurvesRenderer } from "../train/callbacks/live";
import type { ProgressMode } from "../train/callbacks/progress";
import { train } from "../train/fit";
import { TENSORBOARD_LOG_DIR, tensorBoardCallbacks } from "../train/callbacks/tensorboard";
import { optimizerFromConfig, optimizerVariables } from "../optimizers";
import { type CustomRunConfig, customRunConfig, isCustomRunConfig, knownConfig } from "./custom-config";
import { interrupted, loadData, trainIntoRun } from "./experiment";
import { acquireRunLock } from "./lock";
import { createRun, discardUnstartedRun, type Run, RunError } from "./run";

export { isCustomRunConfig, type CustomRunConfig } from "./custom-config";

/** What the architecture file is called: Keras's `model.to_json()`, as tfjs's `model.toJSON()` gives it. */
export const ARCHITECTURE_FILE = "model.json";

export interface CustomRunOptions {
  /** Passes over the training set (in total: a resume continues up to it). */
  epochs: number;
  /** Default 32, Keras's. */
  batchSize?: number;
  /** Seed of the batch shuffle (and dropout masks of the written-out step); default the config's. */
  seed?: number;
  /** The session's config: its data fields (dataDir, validationSize, normalize) and backend are recorded, so `report` and `train --resume` reload the same sets. Default the tutorial's. */
  config?: ExperimentConfig;
  lrSchedule?: ExperimentConfig["lrSchedule"];
  clipNorm?: number | null;
  clipValue?: number | null;
  callbacks?: TrainCallbacks | TrainCallbacks[];
  progress?: ProgressMode;
  liveCurves?: CurvesRenderer;
  /** Clear a non-empty folder first (the CLI's --force). */
  overwrite?: boolean;
  /** The backend line's facts for environment.json; default the running tfjs backend's name. */
  backend?: BackendInfo;
  log?: (line: string) => void;
}

export interface CustomRunData {
  train: LabeledImages;
  valid?: LabeledImages;
  /** Evaluated after training into metrics.json, as a config-built run's test set. */
  test?: LabeledImages;
}

export interface CustomRunResult {
  run: Run;
  history: History;
  /** Present when test data was given and training was not interrupted. */
  metrics?: TestMetrics & { backend: string };
  backend: BackendInfo;
}

/**
 * Trains a compiled hand-built model into a new run folder `dir`: config.json (what is known, architecture
 * "custom"), model.json (architecture), summary.txt, environment.json, a checkpoint per epoch (weights and
 * optimizer slots), history.csv/json, model/ and, with test data, metrics.json. Holds the run's lock while it writes.
 */
export async function trainCustomRun(
  model: tf.LayersModel,
  data: CustomRunData,
  dir: string,
  options: CustomRunOptions,
): Promise<CustomRunResult> {
  if (!model.optimizer) {
    throw new RunError(
      `model "${model.name}" is not compiled; call model.compile({ loss, optimizer, metrics }) before training it into a run folder`,
    );
  }
  const record = customRunConfig(model, options, data.train.x.shape[0]!);
  const run = createRun(dir, { force: options.overwrite });
  const lock = acquireRunLock(run.dir, { log: options.log ?? console.log });
  try {
    run.writeJson("config.json", record);
    run.writeText(ARCHITECTURE_FILE, JSON.stringify(model.toJSON(undefined, false)) + "\n");
    run.writeText("summary.txt", modelSummary(model) + "\n");
    return await fitAndSave(model, data, run, record, options);
  } catch (err) {
    // A start that completed no epoch leaves nothing behind (the lock first), so the same cell can simply run again.
    lock.release();
    discardUnstartedRun(run.dir);
    throw err;
  } finally {
    lock.release();
  }
}

export interface ResumeCustomOptions {
  /** Train up to this many epochs in total; default the run's own. */
  epochs?: number;
  /** The run's data; default Fashion-MNIST loaded with the run's recorded data fields, shaped as the model's input. */
  data?: CustomRunData;
  progress?: ProgressMode;
  log?: (line: string) => void;
}

/**
 * `train --resume` for a hand-built run: rebuilds the model from model.json, recompiles it with the recorded loss,
 * metrics and optimizer, restores the weights and optimizer slots of the last checkpoint, and trains on to `epochs`,
 * ending as an uninterrupted run would.
 */
export async function resumeCustomRun(run: Run, options: ResumeCustomOptions = {}): Promise<CustomRunResult> {
  const saved = run.readJson<CustomRunConfig>("config.json");
  if (!isCustomRunConfig(saved))
    throw new RunError(
      `${run.file("config.json")} does not describe a hand-built model ("model": "custom"); resume it with trainExperiment`,
    );
  const architecture = run.file(ARCHITECTURE_FILE);
  if (!fs.existsSync(architecture)) {
    throw new RunError(
      `${architecture} is missing, so the hand-built model of this run cannot be rebuilt; train it again into a new folder`,
    );
  }
  const pointer = readPointer(run.checkpointsDir, "last");
  if (!pointer)
    throw new RunError(`${run.dir}: no completed epoch to resume from (no checkpoints/last.json); train it again into a new folder`);
  const record: CustomRunConfig = { ...saved, epochs: options.epochs ?? saved.epochs };
  const log = options.log ?? console.log;
  const lock = acquireRunLock(run.dir, { log });
  try {
    const config = knownConfig(record);
    const backend = await initBackend(config);
    const model = await rebuild(run, architecture, record, pointer);
    const data = options.data ?? (await fashionMnistFor(model, config, record.samples));
    if (record.epochs !== saved.epochs) run.writeJson("config.json", record);
    log(`resuming ${run.dir} after epoch ${pointer.epoch + 1}/${record.epochs}`);
    const resumed = { ...pointer.history, params: { epochs: record.epochs, steps: 0, batchSize: record.batchSize, samples: 0 } };
    const result = await fitAndSave(
      model,
      data,
      run,
      record,
      { ...options, epochs: record.epochs, backend, log },
      { pointer, history: resumed },
    ).finally(() => model.dispose());
    // As `train --resume` of a config-built run: Ctrl-C / SIGTERM end the command with their exit code.
    if (result.history.stopped) throw interrupted(run, result.history, record.epochs);
    return result;
  } finally {
    lock.release();
  }
}

/** The model of model.json with the last checkpoint's weights, compiled as recorded, with the checkpoint's optimizer slots. */
async function rebuild(run: Run, architecture: string, record: CustomRunConfig, pointer: CheckpointPointer): Promise<tf.LayersModel> {
  let topology: unknown;
  try {
    topology = JSON.parse(fs.readFileSync(architecture, "utf8"));
  } catch (err) {
    throw new RunError(`${architecture} is not valid JSON (${(err as Error).message}); the file is damaged, train the model again`);
  }
  const model = await tf.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON["modelTopology"] });
  const folder = path.join(run.checkpointsDir, pointer.dir);
  const trained = await loadModel(folder);
  try {
    model.setWeights(trained.getWeights());
  } finally {
    trained.dispose();
  }
  model.compile({ optimizer: optimizerFromConfig(record.optimizerConfig), loss: record.loss, metrics: record.metrics });
  const state = readOptimizer(folder);
  if (state) await optimizerVariables(model.optimizer).restore(state);
  return model;
}

/** Fashion-MNIST as the run was trained on it: the recorded split and normalization, images shaped as the model's input. */
async function fashionMnistFor(model: tf.LayersModel, config: ExperimentConfig, samples: number): Promise<CustomRunData> {
  const splits = await loadData(config);
  const shaped = (set: LabeledImages): LabeledImages => ({ x: asModelInput(model, set.x), y: set.y });
  const data = { train: shaped(splits.train), valid: shaped(splits.valid), test: shaped(splits.test) };
  const n = data.train.x.shape[0]!;
  if (n !== samples) {
    throw new RunError(
      `this run trained on ${samples} samples, Fashion-MNIST with validationSize ${config.validationSize} has ${n}; resume it from the notebook that holds its data`,
    );
  }
  return data;
}

/**
 * `images` ([n, 28, 28]) reshaped to the model's input shape (e.g. [n, 28, 28, 1] for a CNN), sharing the data;
 * unchanged when the model takes that shape or the pixel counts differ (the model then says what it expected).
 */
export function asModelInput<T extends Images>(model: tf.LayersModel, images: T): T {
  const inputShape = model.inputs[0]?.shape.slice(1) ?? [];
  const n = images.shape[0]!;
  if (inputShape.some((d) => d == null)) return images;
  const size = (inputShape as number[]).reduce((a, b) => a * b, 1);
  if (size * n !== images.data.length || inputShape.join() === images.shape.slice(1).join()) return images;
  return { ...images, data: images.data, shape: [n, ...(inputShape as number[])] } as T;
}

/** Trains with per-epoch checkpoints, then writes environment, history, model and metrics; shared by start and resume. */
async function fitAndSave(
  model: tf.LayersModel,
  data: CustomRunData,
  run: Run,
  record: CustomRunConfig,
  options: CustomRunOptions,
  resumed?: { pointer: CheckpointPointer; history: History },
): Promise<CustomRunResult> {
  const log = options.log ?? console.log;
  const backend = options.backend ?? { name: (tf.getBackend() ?? "cpu") as BackendInfo["name"], tfjsVersion: tf.version.tfjs, skipped: [] };
  run.saveEnvironment(backend);
  const { callbacks, state } = await checkpointedCallbacks(model, run.checkpointsDir, null, resumed?.pointer, resumed?.history);
  const history = await trainIntoRun(run, backend, () =>
    train(
      model,
      { train: data.train, ...(data.valid && { valid: data.valid }) },
      {
        epochs: record.epochs,
        batchSize: record.batchSize,
        seed: record.seed,
        learningRate: record.learningRate,
        lrSchedule: record.lrSchedule,
        clipNorm: record.clipNorm,
        clipValue: record.clipValue,
      },
      {
        callbacks: [
          ...callbacks,
          ...tensorBoardCallbacks(model, run.file(TENSORBOARD_LOG_DIR), record.tensorBoard),
          ...[options.callbacks ?? []].flat(),
        ],
        progress: options.progress,
        liveCurves: options.liveCurves,
        initialHistory: resumed?.history,
        state,
      },
    ),
  );
  await run.saveModel(model);
  if (history.stopped) {
    log(
      `stopped after epoch ${history.epoch.length}/${record.epochs}; checkpoint kept. Resume with: fashion-ann train --resume ${run.dir}`,
    );
    return { run, history, backend };
  }
  if (!data.test) return { run, history, backend };
  const metrics = { ...evaluate(model, data.test, log), backend: tf.getBackend() ?? backend.name };
  run.writeJson("metrics.json", metrics);
  return { run, history, metrics, backend };
}

/** The run folder's config.json read for what any run has (compare, report): known fields resolved, "custom" set aside. */
export function readRunConfig(run: Run): { config: ExperimentConfig; custom?: CustomRunConfig } {
  const json = run.readJson<Record<string, unknown>>("config.json");
  if (isCustomRunConfig(json)) return { config: knownConfig(json), custom: json };
  return { config: resolveConfig(json as ExperimentConfig) };
}
