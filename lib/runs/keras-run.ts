// Run folders to and from Keras: `fashion-ann export` writes a run's model as a Keras 3 `.keras` archive, `fashion-ann
// import` turns a Keras model (.keras or TF 2.x's .h5) into a hand-built model's run folder (custom-run.ts's layout),
// which evaluate, predict, report, compare and `train --resume` (fine-tuning from epoch 1) then take as any other run.
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { resolveConfig } from "../config";
import { initBackend } from "../engine/backend";
import { type KerasCompileSpec, writeKerasArchive } from "../keras/archive";
import { fromKerasOptimizerVariables, type KerasOptimizerVariable, toKerasOptimizerVariables } from "../keras/optimizer-state";
import { optimizerVariables } from "../optimizers";
import { readOptimizer, readPointer, saveOptimizer } from "../train/callbacks/checkpoint";
import { scheduledLearningRate } from "../train/schedules";
import { KerasFormatError } from "../keras/errors";
import { type KerasModelFile, readKerasModel } from "../keras/read";
import { compileModel } from "../model/factory";
import { saveModel } from "../model/files";
import { modelSummary } from "../model/summary";
import { ARCHITECTURE_FILE, readRunConfig } from "./custom-run";
import { customRunConfig } from "./custom-config";
import { acquireRunLock } from "./lock";
import { createRun, discardUnstartedRun, type Run } from "./run";
import { writeFileAtomic } from "../io/atomic";

/** The optimizer a run trained with, as Keras's compile_config records it; undefined for a hand-built run's unnamed optimizer. */
function compileSpecOf(run: Run): KerasCompileSpec | undefined {
  const { config, custom } = readRunConfig(run);
  if (custom?.optimizer === "custom") return undefined;
  const { optimizer, learningRate, momentum, nesterov, weightDecay, clipNorm, clipValue } = config;
  return { optimizer, learningRate, momentum, nesterov, weightDecay, clipNorm, clipValue };
}

/**
 * The optimizer's state of the run's last checkpoint in Keras's layout (the state Keras would hold after the same
 * epochs, also when early stopping put the best weights back), or the sentence saying why there is none.
 */
function kerasOptimizerOf(run: Run, model: tf.LayersModel, spec: KerasCompileSpec | undefined): KerasOptimizerVariable[] | string {
  if (!spec) return "the run's optimizer is a hand-built one Keras has no name for";
  const pointer = readPointer(run.checkpointsDir, "last");
  const state = pointer && readOptimizer(path.join(run.checkpointsDir, pointer.dir));
  if (!pointer || !state) return "the run has no checkpoint with an optimizer state";
  const { config } = readRunConfig(run);
  const steps = config.epochs * Math.ceil((60_000 - config.validationSize) / config.batchSize);
  // Keras continues at one rate (the schedule is not exported): the rate the run's next step would use.
  const base = pointer.train?.plateau?.learningRate ?? spec.learningRate;
  const learningRate = scheduledLearningRate(config.lrSchedule, base, state.iterations, Math.max(1, steps));
  return toKerasOptimizerVariables(
    state,
    spec,
    learningRate,
    model.trainableWeights.map((w) => w.shape as number[]),
  );
}

/** What `export` wrote: the archive, its layer count, and the optimizer state's iterations or why it has none. */
export interface KerasExport {
  file: string;
  layers: number;
  optimizer: { iterations: number } | { missing: string };
}

/**
 * Writes the run's trained model as a Keras 3 archive at `file` (which must end in .keras, as Keras's load_model
 * requires), compiled as the run was, with the optimizer's state when the run has one Keras can continue from.
 */
export async function exportRunToKeras(run: Run, file: string): Promise<KerasExport> {
  if (path.extname(file) !== ".keras")
    throw new KerasFormatError(`--out ${file} must end in .keras, the extension Keras 3's load_model requires for its archive`);
  const model = await run.loadModel();
  try {
    const spec = compileSpecOf(run);
    const vars = kerasOptimizerOf(run, model, spec);
    await writeKerasArchive(model, file, spec, typeof vars === "string" ? undefined : vars);
    const optimizer = typeof vars === "string" ? { missing: vars } : { iterations: Number(vars[0]!.data[0]) };
    return { file: path.resolve(file), layers: model.layers.length, optimizer };
  } finally {
    model.dispose();
  }
}

/**
 * Puts the optimizer state Keras saved into the compiled `model`'s optimizer and the starting checkpoint, so
 * `train --resume` continues Keras's fit; says which it did, or why the resume starts a fresh optimizer.
 */
async function carryOptimizerState(model: tf.LayersModel, read: KerasModelFile, folder: string): Promise<string> {
  const optimizer = model.optimizer;
  const fresh = (why: string) => `optimizer: a fresh ${optimizer.getClassName()} for train --resume (${why})`;
  if (!read.compile || !read.optimizerVariables) return fresh(read.noOptimizerState ?? "the file has no optimizer state");
  const variables = model.trainableWeights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
  const state = fromKerasOptimizerVariables(read.optimizerVariables, read.compile, optimizer.getClassName(), variables);
  if (typeof state === "string") return fresh(state);
  await optimizerVariables(optimizer).restore(state);
  await saveOptimizer(optimizer, folder);
  return `optimizer: Keras's ${optimizer.getClassName()} state after ${state.iterations} steps, which train --resume continues`;
}

/** The epochs an imported run plans, so a bare `train --resume` fine-tunes one epoch (--epochs N for more). */
const FINE_TUNE_EPOCHS = 1;

export interface ImportOptions {
  /** Clear a non-empty folder first (the CLI's --force). */
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Reads a Keras model and writes it into a new run folder `dir` as a hand-built model's run that has completed no
 * epoch: config.json, model.json, summary.txt, environment.json, model/, and a starting checkpoint (the imported
 * weights and a fresh optimizer) that `train --resume --epochs N` fine-tunes from.
 */
export async function importKerasRun(file: string, dir: string, options: ImportOptions = {}): Promise<Run> {
  const log = options.log ?? console.log;
  const read = await readKerasModel(file);
  const model: tf.LayersModel = read.model;
  const backend = await initBackend(resolveConfig({}));
  const spec = read.compile ?? { optimizer: "sgd", learningRate: 0.01 };
  compileModel(model, { ...spec, weightDecay: spec.weightDecay ?? null });
  const record = customRunConfig(
    model,
    { epochs: FINE_TUNE_EPOCHS, clipNorm: spec.clipNorm, clipValue: spec.clipValue },
    60_000 - resolveConfig({}).validationSize,
  );
  const run = createRun(dir, { force: options.force });
  const lock = acquireRunLock(run.dir, { log });
  try {
    run.writeJson("config.json", record);
    run.writeText(ARCHITECTURE_FILE, JSON.stringify(model.toJSON(undefined, false)) + "\n");
    run.writeText("summary.txt", modelSummary(model) + "\n");
    run.writeJson("keras-import.json", { file: path.resolve(file), format: read.format, kerasVersion: read.kerasVersion ?? null });
    run.saveEnvironment(backend);
    await saveModel(model, path.join(run.checkpointsDir, "epoch-000"));
    log(await carryOptimizerState(model, read, path.join(run.checkpointsDir, "epoch-000")));
    // Epoch -1: the imported weights, before this project trained any epoch; a resume starts at epoch 0.
    const pointer = { epoch: -1, dir: "epoch-000", history: { epoch: [], history: {} } };
    writeFileAtomic(path.join(run.checkpointsDir, "last.json"), JSON.stringify(pointer));
    // No epoch trained here yet: an empty history, so compare and report find the file a run has.
    run.saveHistory({
      epoch: [],
      history: { loss: [], accuracy: [], val_loss: [], val_accuracy: [] },
      params: { epochs: FINE_TUNE_EPOCHS, steps: 0, batchSize: record.batchSize, samples: 0 },
      seconds: 0,
    });
    await run.saveModel(model);
    return run;
  } catch (err) {
    lock.release();
    discardUnstartedRun(run.dir);
    throw err;
  } finally {
    lock.release();
    model.dispose();
  }
}
