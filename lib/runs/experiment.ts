import * as tf from "@tensorflow/tfjs";
import { formatBackend, initBackend, type BackendInfo } from "../engine/backend";
import type { ExperimentConfig } from "../config";
import { defaultProgress } from "../data/download";
import { defaultDecodedCacheDir } from "../data/decoded-cache";
import { loadFashionMnist } from "../data/fashion-mnist";
import type { Images } from "../data/images";
import { type Standardization, standardize, unstandardize } from "../data/standardize";
import { takePrefetched } from "../data/prefetch";
import { type FashionMnistSplits, scaleImages, splitScaled } from "../data/split";
import { type LoadedDataset, residentDataset } from "../data/resident";
import { evaluate, type TestMetrics } from "../results/evaluate";
import { createModel } from "../model/factory";
import { architectureFigure } from "../figures/architecture";
import { imageFigure, imageGridFigure } from "../figures/images";
import { learningCurvesFigure } from "../figures/curves";
import { predictionsFigure } from "../figures/predictions";
import { saveFig, warmRenderer } from "../figures/render/chromium";
import type { Figure } from "../figures/figure";
import { classNamesOf, predictClasses, predictProba } from "../results/predict";
import type { ProgressMode } from "../train/callbacks/progress";
import { projectPath } from "../io/paths";
import type { Run } from "./run";
import { layerTable, modelSummary } from "../model/summary";
import { train, TrainingError } from "../train/fit";
import type { History, TrainCallbacks } from "../train/callbacks/callback";
import { type CheckpointPointer, checkpointedCallbacks, loadCheckpoint } from "../train/callbacks/checkpoint";
import { lastInterruptSignal } from "../train/interrupt";
import { TENSORBOARD_LOG_DIR, tensorBoardCallbacks } from "../train/callbacks/tensorboard";
import { acquireRunLock } from "./lock";
import { TrainingInterrupted } from "./interrupted";

/**
 * Loads Fashion-MNIST from config.dataDir (or the Debian package, or the download) and splits and scales it
 * as the tutorial does; `normalize: "standardize"` then standardizes every set with the training set's
 * per-pixel mean and std, as Géron's chapter 11 does for SELU.
 */
export async function loadData(config: DataConfig): Promise<FashionMnistSplits> {
  return (await loadDataWithStandardization(config)).splits;
}

type DataConfig = Pick<ExperimentConfig, "dataDir" | "validationSize"> & Partial<Pick<ExperimentConfig, "normalize">>;

/**
 * loadData, plus the statistics it standardized with (null for "scale"): images from outside the dataset (predict's
 * PNGs) must go through the same `(x - mean) / std` as the training set, or the model sees another distribution.
 */
export async function loadDataWithStandardization(
  config: DataConfig,
): Promise<{ splits: FashionMnistSplits; standardization: Standardization | null }> {
  const dataDir = projectPath(config.dataDir);
  const standardizing = config.normalize === "standardize";
  const { raw, scaled } = await residentDataset(dataDir, () => readScaled(dataDir), standardizing);
  const splits = splitScaled(raw, scaled, config.validationSize);
  return { splits, standardization: standardizing ? standardize(splits) : null };
}

/** The dataset and its images scaled to 0..1: a notebook kernel's prefetch, or read from the files. */
async function readScaled(dataDir: string): Promise<LoadedDataset> {
  const prefetched = await takePrefetched(dataDir);
  if (prefetched) return prefetched;
  const raw = await loadFashionMnist({ dataDir, onProgress: defaultProgress(), decodedCacheDir: defaultDecodedCacheDir() });
  return { raw, scaled: { trainImages: scaleImages(raw.trainImages), testImages: scaleImages(raw.testImages) } };
}

/**
 * The tutorial's figures, under the names Géron's notebook saves them with. `standardization`: the statistics a
 * "standardize" run's images went through, undone to draw them (the model still predicts from the standardized ones).
 */
export function tutorialFigures(
  data: FashionMnistSplits,
  model: tf.LayersModel,
  history: History,
  standardization: Standardization | null = null,
): Record<string, Figure> {
  const names = data.classNames;
  const train = data.train;
  const first40 = train.x.slice(0, 40);
  const labels40 = Array.from(train.y.data.subarray(0, 40), (c) => names[c]!);
  const newImages = data.test.x.slice(0, 3);
  const predicted = classNamesOf(predictClasses(predictProba(model, newImages)), names);
  const drawn = (images: Images) => unstandardize(images, standardization);
  return {
    first_image: imageFigure(drawn(train.x.slice(0, 1)).data, { title: names[train.y.data[0]!] }),
    fashion_mnist_plot: imageGridFigure(drawn(first40), labels40, 4, 10),
    my_fashion_mnist_model: architectureFigure(layerTable(model)),
    keras_learning_curves_plot: learningCurvesFigure(history.history),
    fashion_mnist_images_plot: predictionsFigure(drawn(newImages), predicted),
  };
}

export interface ExperimentResult {
  backend: BackendInfo;
  history: History;
  metrics: TestMetrics & { backend: string };
  figures: string[];
}

// Defined apart so the CLI can map it to exit codes 130 / 143 without loading training.
export { TrainingInterrupted } from "./interrupted";

export interface ExperimentOptions {
  log?: (s: string) => void;
  progress?: ProgressMode;
  /** Continue from the run's last checkpoint with its own config. */
  resume?: boolean;
  /**
   * Render the tutorial's five figures into figures/ (default true). A search or sweep trial skips them: Chromium
   * costs seconds per trial, and the study draws its own overlay of the trials' curves.
   */
  figures?: boolean;
  /**
   * Called with every metric per epoch so far (History.history, from the run's first epoch) once each epoch's
   * checkpoint is written, and once before training when resuming: a search trial reports to its worker this way.
   */
  onEpoch?: (history: Record<string, number[]>) => void | Promise<void>;
}

/** The callback behind ExperimentOptions.onEpoch: the history so far, after the checkpoint callbacks before it. */
function epochReport(initial: History | undefined, onEpoch: NonNullable<ExperimentOptions["onEpoch"]>): TrainCallbacks {
  const history: Record<string, number[]> = structuredClone(initial?.history ?? {});
  return {
    onEpochEnd: async (_epoch, logs) => {
      for (const [k, v] of Object.entries(logs)) history[k] = [...(history[k] ?? []), v];
      await onEpoch(structuredClone(history));
    },
  };
}

/**
 * Runs `training` (a train() call checkpointing into `run`), then saves its history. A failure names the last good
 * checkpoint. environment.json is written again once training chose its engine: a model the native step does not
 * cover trains on wasm, and the file then names that engine, the one `backend` started and why.
 */
export async function trainIntoRun(run: Run, backend: BackendInfo, training: () => Promise<History>): Promise<History> {
  let history: History;
  try {
    history = await training();
  } catch (err) {
    if (err instanceof TrainingError) {
      // The epochs before the divergence, and where it happened, stay in history.json / history.csv.
      if (err.history) run.saveHistory(err.history);
      throw new TrainingError(`${err.message}. The last good checkpoint is in ${run.checkpointsDir}`, err.epoch, err.batch, err.history);
    }
    throw err;
  }
  const switched = history.engine?.switched;
  if (switched) run.saveEnvironment(backend, switched);
  run.saveHistory(history);
  return history;
}

/** What ends a `train` or `train --resume` command that Ctrl-C / SIGTERM stopped after `history`'s epochs. */
export function interrupted(run: Run, history: History, epochs: number): TrainingInterrupted {
  const signal = lastInterruptSignal();
  return new TrainingInterrupted(
    `training interrupted${signal ? ` by ${signal}` : ""} after epoch ${history.epoch.length}/${epochs}; checkpoint kept. Resume with: fashion-ann train --resume ${run.dir}`,
    signal,
  );
}

/**
 * The whole tutorial in one call (what `fashion-ann train` runs): load, build, train, evaluate, and
 * write config, environment, summary, history, model, metrics and figures into the run folder.
 * Every epoch is checkpointed; `resume` continues from the last checkpoint with the run's own config,
 * giving the same result as an uninterrupted run.
 */
export async function trainExperiment(config: ExperimentConfig, run: Run, options: ExperimentOptions = {}): Promise<ExperimentResult> {
  // One writer per run folder: a second train or --resume on it would interleave checkpoints and files.
  const lock = acquireRunLock(run.dir, { log: options.log ?? console.log });
  try {
    return await trainLocked(config, run, options);
  } finally {
    lock.release();
  }
}

async function trainLocked(config: ExperimentConfig, run: Run, options: ExperimentOptions): Promise<ExperimentResult> {
  const log = options.log ?? console.log;
  // The figures at the end need Chromium with plotly.js loaded: the render daemon gets ready while this trains.
  if (options.figures ?? true) warmRenderer();
  const backend = await initBackend(config);
  log(formatBackend(backend));
  log(`config: ${JSON.stringify(config)}`);
  if (!options.resume) run.saveConfig(config);
  run.saveEnvironment(backend);
  const { splits: data, standardization } = await loadDataWithStandardization(config);
  let model: tf.LayersModel;
  let initialHistory: History | undefined;
  let resumed: CheckpointPointer | undefined;
  if (options.resume) {
    const { model: restored, pointer } = await loadCheckpoint(run.checkpointsDir, "last", config);
    model = restored;
    resumed = pointer;
    initialHistory = { ...pointer.history, params: { epochs: config.epochs, steps: 0, batchSize: config.batchSize, samples: 0 } };
    log(`resuming ${run.dir} after epoch ${pointer.epoch + 1}/${config.epochs}`);
  } else {
    model = createModel(config);
  }
  const summary = modelSummary(model, { name: "sequential" });
  log(summary);
  run.writeText("summary.txt", summary + "\n");
  const { callbacks, stopper, state } = await checkpointedCallbacks(model, run.checkpointsDir, config.patience, resumed, initialHistory);
  if (options.onEpoch) {
    // Reported after the checkpoint callbacks, so whoever hears of an epoch finds its checkpoint written.
    callbacks.push(epochReport(initialHistory, options.onEpoch));
    if (initialHistory) await options.onEpoch(structuredClone(initialHistory.history));
  }
  const history = await trainIntoRun(run, backend, () =>
    train(model, data, config, {
      progress: options.progress,
      callbacks: [...callbacks, ...tensorBoardCallbacks(model, run.file(TENSORBOARD_LOG_DIR), config.tensorBoard)],
      initialHistory,
      state,
    }),
  );
  if (history.stopped && !stopper?.stopped()) throw interrupted(run, history, config.epochs);
  if (stopper?.stopped()) log(`early stopping: best val_loss at epoch ${stopper.bestEpoch()! + 1}; its weights restored`);
  await run.saveModel(model);
  // The backend that trained: the native engine hands a model its step does not cover to wasm.
  const metrics = { ...evaluate(model, data.test, log), backend: tf.getBackend() ?? backend.name };
  run.writeJson("metrics.json", metrics);
  const figures: string[] = [];
  if (options.figures ?? true) {
    // All five at once: the daemon draws them side by side, and no figure waits for another's file write.
    const specs = Object.entries(tutorialFigures(data, model, history, standardization));
    figures.push(...(await Promise.all(specs.map(([name, fig]) => saveFig(fig, name, { dir: run.figuresDir })))));
  }
  model.dispose();
  return { backend, history, metrics, figures };
}
