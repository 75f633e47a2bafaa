// What every notebook does first, and Keras's `model.fit` for the notebooks: the lean loop of train/ underneath.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { type ConfigOverrides, type ExperimentConfig, resolveConfig } from "../config";
import { type BackendInfo, formatBackend, initBackend } from "../engine/backend";
import { loadImagePng } from "../data/png-input";
import type { Figure } from "../figures/figure";
import { imageFigure } from "../figures/images";
import { warmRenderer } from "../figures/render/chromium";
import { liveCurvesRenderer } from "../figures/render/live";
import type { History, TrainCallbacks } from "../train/callbacks/callback";
import type { ProgressMode } from "../train/callbacks/progress";
import { TENSORBOARD_LOG_DIR, tensorBoardCallbacks } from "../train/callbacks/tensorboard";
import { type LabeledImages, train } from "../train/fit";
import { trainCustomRun } from "../runs/custom-run";
import { openRun, type Run, RunError } from "../runs/run";

export interface NotebookSession {
  /** The tutorial's config with the notebook's overrides. */
  config: ExperimentConfig;
  /** The run folder the notebooks share (created if missing). */
  run: Run;
  /** The TensorFlow.js backend, started. */
  backend: BackendInfo;
}

/**
 * The first cell of every notebook: resolve the config with the parameters cell's `overrides`, open the run folder
 * `runDir`, start the backend, and print the backend line and the folder.
 */
export async function startNotebook(overrides: ConfigOverrides = {}, runDir = "../runs/interactive"): Promise<NotebookSession> {
  const config = resolveConfig(overrides);
  const run = openRun(runDir);
  // Figures later in the notebook should find Chromium and plotly.js loaded; a no-op if the import started it.
  warmRenderer();
  const backend = await initBackend(config);
  console.log(formatBackend(backend));
  console.log("run folder:", run.dir);
  session = { config, run, backend };
  return session;
}

/**
 * The session the kernel's startNotebook opened last. A `fit` in it that trains into its run folder records the
 * folder's config.json and environment.json, so the folder is a complete run (compare, report, `train --resume`)
 * whichever notebooks ran: notebook 04 alone used to leave it without config.json. Each notebook is its own kernel,
 * so its own session.
 */
let session: NotebookSession | undefined;

/**
 * Whether a fit trains into `run`: its callbacks checkpoint there (notebook 04's), or the folder has no config.json
 * yet. Side experiments (notebook 11's optimizers, no checkpoints) then leave the config of notebook 04's run alone.
 */
function trainsIntoRun(run: Run, callbacks: FitOptions["callbacks"]): boolean {
  const into = [callbacks ?? []]
    .flat()
    .some((cb) => (cb as { checkpointsDir?: unknown }).checkpointsDir === path.resolve(run.checkpointsDir));
  return into || !fs.existsSync(run.file("config.json"));
}

/**
 * Writes what a run folder says about its training: the session's config with the settings of the loop `fit` runs
 * (epochs, batch size, seed, schedule, clipping), and the backend. The model and optimizer fields are the session's,
 * which notebook 04's createModel(config) and createOptimizer(config) follow.
 */
function recordTraining(
  s: NotebookSession,
  loop: Pick<ExperimentConfig, "epochs" | "batchSize" | "seed" | "lrSchedule" | "clipNorm" | "clipValue">,
): void {
  s.run.saveConfig({ ...s.config, ...loop });
  s.run.saveEnvironment(s.backend);
}

/** Images as the notebooks hold them (an NDArray, e.g. `X_train`): float32 values and a shape `[n, 28, 28]`. */
type Images = LabeledImages["x"];
/** Class indices 0..9, shape `[n]` (e.g. `y_train`). */
type Labels = LabeledImages["y"];

export interface FitOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Samples per gradient step; default 32, Keras's. */
  batchSize?: number;
  /** `[X_valid, y_valid]`: loss and metrics measured on it after each epoch (the `val_*` keys of the history). */
  validationData?: [Images, Labels];
  /** Keras-style callbacks, e.g. `checkpointCallback(model, run.checkpointsDir)`. */
  callbacks?: TrainCallbacks | TrainCallbacks[];
  /** Seed of the batch shuffle; default the config's (42): the same seed gives the same history. */
  seed?: number;
  /** Keras's `verbose`: "live" (default in a notebook: bar and curves in place), "epoch" (plain lines), "bar", "none". */
  progress?: ProgressMode;
  /** Redraw the learning curves after each epoch in the live view; default true. */
  curves?: boolean;
  /**
   * The config's learning-rate schedule (`config.lrSchedule`), applied to the compiled optimizer from its own
   * learning rate; the history then records `learning_rate` per epoch, as Keras's. Default none.
   */
  lrSchedule?: ExperimentConfig["lrSchedule"];
  /** Keras's clipnorm / clipvalue (`config.clipNorm`, `config.clipValue`); default off. */
  clipNorm?: number | null;
  clipValue?: number | null;
  /**
   * Train into this new run folder (refused if it holds another run, unless `overwrite`), so the hand-built model is a
   * run like `fashion-ann train`'s: config.json, model.json (architecture), summary, checkpoints, history, model/,
   * metrics.json with `testData`. `compare`, `report` and `fashion-ann train --resume` then read it.
   */
  runDir?: string;
  /** `[X_test, y_test]`, evaluated into the run folder's metrics.json after training (with `runDir`). */
  testData?: [Images, Labels];
  /** With `runDir`: clear a folder that holds another run first. */
  overwrite?: boolean;
  /** With `runDir`: the session's config, whose data fields the run records (startNotebook's `config`). */
  config?: ExperimentConfig;
}

/**
 * `history = model.fit(X_train, y_train, epochs=..., validation_data=(X_valid, y_valid))`: trains a compiled model
 * and returns Keras's History (`history.history.loss`, `.accuracy`, `.val_loss`, `.val_accuracy`, one value per
 * epoch). Underneath is `train()`: a seeded shuffle and, for a Dense stack, the fast step. With `runDir`, a
 * hand-built model trains into a run folder of its own (see FitOptions.runDir).
 */
export async function fit(model: tf.LayersModel, x: Images, y: Labels, options: FitOptions): Promise<History> {
  if (!model.optimizer) {
    throw new RunError(`model "${model.name}" is not compiled; call model.compile({ loss, optimizer, metrics }) before fit`);
  }
  const defaults = options.config ?? resolveConfig({});
  const [xValid, yValid] = options.validationData ?? [];
  const data = { train: { x, y }, ...(xValid && yValid && { valid: { x: xValid, y: yValid } }) };
  const liveCurves = options.curves === false ? undefined : liveCurvesRenderer();
  if (options.runDir) {
    const [xTest, yTest] = options.testData ?? [];
    const withTest = { ...data, ...(xTest && yTest && { test: { x: xTest, y: yTest } }) };
    const result = await trainCustomRun(model, withTest, options.runDir, { ...options, config: defaults, liveCurves });
    console.log("run folder:", result.run.dir);
    return result.history;
  }
  const loop = {
    epochs: options.epochs,
    batchSize: options.batchSize ?? defaults.batchSize,
    seed: options.seed ?? defaults.seed,
    lrSchedule: options.lrSchedule ?? null,
    clipNorm: options.clipNorm ?? null,
    clipValue: options.clipValue ?? null,
  };
  const callbacks = [options.callbacks ?? []].flat();
  if (session && trainsIntoRun(session.run, options.callbacks)) {
    recordTraining(session, loop);
    // Into the run folder's logs/, as `fashion-ann train` writes them, so TensorBoard shows the notebook's run too.
    callbacks.push(...tensorBoardCallbacks(model, session.run.file(TENSORBOARD_LOG_DIR), session.config.tensorBoard));
  }
  return train(model, data, loop, { callbacks, progress: options.progress, liveCurves });
}

/**
 * A 28x28 PNG as the model sees it, after `predict`'s conversions (grayscale; a light background inverted), titled
 * with what was done: `await showInline(modelInputFigure("shoe.png"))`.
 */
export function modelInputFigure(file: string): Figure {
  const img = loadImagePng(file);
  const title = img.conversions.length ? `model input (${img.conversions.join(", ")})` : "model input";
  return imageFigure(img.pixels, { title });
}
