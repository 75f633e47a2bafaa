import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../../io/atomic";
import type { OptimizerConfig } from "../../model/factory";
import { loadModel, saveModel } from "../../model/files";
import { type OptimizerState, optimizerVariables } from "../../optimizers";
import type { History, Logs, TrainCallbacks, TrainState } from "./callback";
import { UserError } from "../../errors/user-error";

/** What `checkpoints/last.json` and `best.json` point at. */
export interface CheckpointPointer {
  /** 0-based epoch whose end state was saved. */
  epoch: number;
  /** Folder (relative to checkpoints/) holding model.json + weights.bin. */
  dir: string;
  val_loss?: number;
  /** The history up to and including `epoch` (for resuming). */
  history: Pick<History, "epoch" | "history" | "seconds">;
  /** train()'s state after `epoch` (the learning-rate schedule's position). */
  train?: TrainState;
  /** Early stopping's counters after `epoch`; its best weights are best.json's checkpoint. */
  earlyStopping?: EarlyStoppingState;
}

/** What early stopping carries from epoch to epoch, besides the best weights. */
export interface EarlyStoppingState {
  /** Lowest val_loss so far (null: none yet). */
  best: number | null;
  bestEpoch: number | null;
  /** Epochs since the best one. */
  wait: number;
}

/** What checkpointCallback saves besides the model: the optimizer always, these when given. */
export interface CheckpointExtras {
  /** The object train() keeps its state in (TrainOptions.state). */
  state?: TrainState;
  /** The run's early stopping, whose counters each checkpoint records. */
  stopper?: { state(): EarlyStoppingState };
}

/**
 * Saves the model after every epoch into `checkpoints/epoch-NNN/`, then switches the pointer file
 * `last.json` (and `best.json` when val_loss improved) with one atomic rename: a kill at any moment
 * leaves the previous complete checkpoint or the new one, never a half-written one.
 */
export function checkpointCallback(
  model: tf.LayersModel,
  dir: string,
  initial?: History,
  extras: CheckpointExtras = {},
): TrainCallbacks & { checkpointsDir: string } {
  let best = readPointer(dir, "best")?.val_loss ?? Infinity;
  let history: Pick<History, "epoch" | "history" | "seconds"> = initial
    ? { epoch: [...initial.epoch], history: structuredClone(initial.history), seconds: initial.seconds }
    : { epoch: [], history: {} };
  const started = performance.now();
  return {
    // Where it writes (absolute): a notebook's fit records the run folder's config when training checkpoints into it.
    checkpointsDir: path.resolve(dir),
    onEpochEnd: async (epoch: number, logs: Logs) => {
      history = {
        epoch: [...history.epoch, epoch],
        history: { ...history.history },
        seconds: (initial?.seconds ?? 0) + (performance.now() - started) / 1000,
      };
      for (const [k, v] of Object.entries(logs)) history.history[k] = [...(history.history[k] ?? []), v];
      const folder = `epoch-${String(epoch + 1).padStart(3, "0")}`;
      await saveModel(model, path.join(dir, folder));
      // Written before the pointer switches, so a pointer always names a folder with its optimizer.
      if (model.optimizer) await saveOptimizer(model.optimizer, path.join(dir, folder), model.weights);
      const pointer: CheckpointPointer = {
        epoch,
        dir: folder,
        val_loss: logs.val_loss,
        history,
        ...(extras.state ? { train: structuredClone(extras.state) } : {}),
        ...(extras.stopper ? { earlyStopping: extras.stopper.state() } : {}),
      };
      writeFileAtomic(path.join(dir, "last.json"), JSON.stringify(pointer));
      if (logs.val_loss !== undefined && logs.val_loss < best) {
        best = logs.val_loss;
        writeFileAtomic(path.join(dir, "best.json"), JSON.stringify(pointer));
      }
      pruneCheckpoints(dir);
    },
  };
}

/** A checkpoint that is missing or damaged (a pointer, an epoch folder, the optimizer's state); one sentence with the fix. */
export class CheckpointError extends UserError {
  override name = "CheckpointError";
}

export function readPointer(dir: string, which: "last" | "best"): CheckpointPointer | undefined {
  const file = path.join(dir, `${which}.json`);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointPointer;
  } catch (err) {
    throw new CheckpointError(`${file} is damaged (${(err as Error).message}); delete the checkpoints folder to start over`);
  }
}

/**
 * Loads the model of the `last` or `best` checkpoint, with its pointer, compiled with `optimizer` (the
 * run's config); the optimizer's slots and iteration count are restored when the checkpoint has them, so
 * an Adam or momentum run continues exactly.
 */
export async function loadCheckpoint(
  dir: string,
  which: "last" | "best",
  optimizer?: Partial<OptimizerConfig>,
): Promise<{ model: tf.LayersModel; pointer: CheckpointPointer }> {
  const pointer = readPointer(dir, which);
  if (!pointer)
    throw new CheckpointError(
      `${path.join(dir, `${which}.json`)} does not exist: no epoch was completed in this run, so there is nothing to resume`,
    );
  const folder = path.join(dir, pointer.dir);
  const model = await loadModel(folder, { optimizer });
  const state = readOptimizer(folder);
  if (state && model.optimizer) await optimizerVariables(model.optimizer).restore(state);
  return { model, pointer };
}

/** The weights of the checkpoint `best.json` points at (early stopping's best weights), or undefined. */
async function loadBestWeights(dir: string): Promise<tf.Tensor[] | undefined> {
  const pointer = readPointer(dir, "best");
  if (!pointer) return undefined;
  const model = await loadModel(path.join(dir, pointer.dir));
  const weights = model.getWeights().map((t) => t.clone());
  model.dispose();
  return weights;
}

/**
 * A slot's name under its weight's Keras name. tfjs-layers counts variable names per process: a model built after
 * another with the same layer names gets `dense/kernel_1`, and its slots `dense/kernel_1/m`. A search's trainer
 * process trains model after model, and its checkpoints must read as a fresh process's (slots restore by position).
 */
function stableSlotName(name: string, weights: readonly tf.LayerVariable[]): string {
  const w = weights.find((v) => v.name !== v.originalName && name.startsWith(`${v.name}/`));
  return w ? w.originalName + name.slice(w.name.length) : name;
}

/**
 * optimizer.json (class, iterations, slot names and shapes) and optimizer.bin (the slots' float32 values, in order).
 * `weights`: the model's, to name each slot after its weight's Keras name.
 */
export async function saveOptimizer(optimizer: tf.Optimizer, folder: string, weights: readonly tf.LayerVariable[] = []): Promise<void> {
  const state = await optimizerVariables(optimizer).snapshot();
  const bytes = new Uint8Array(state.slots.reduce((n, s) => n + s.values.byteLength, 0));
  let offset = 0;
  for (const s of state.slots) {
    bytes.set(new Uint8Array(s.values.buffer, s.values.byteOffset, s.values.byteLength), offset);
    offset += s.values.byteLength;
  }
  writeFileAtomic(path.join(folder, "optimizer.bin"), bytes);
  const manifest = {
    className: state.className,
    iterations: state.iterations,
    slots: state.slots.map(({ name, shape }) => ({ name: stableSlotName(name, weights), shape })),
  };
  writeFileAtomic(path.join(folder, "optimizer.json"), JSON.stringify(manifest));
}

/** The optimizer state a checkpoint folder saved (optimizer.json + optimizer.bin), or undefined if it has none. */
export function readOptimizer(folder: string): OptimizerState | undefined {
  const file = path.join(folder, "optimizer.json");
  if (!fs.existsSync(file)) return undefined;
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as Omit<OptimizerState, "slots"> & {
    slots: { name: string; shape: number[] }[];
  };
  const bin = fs.readFileSync(path.join(folder, "optimizer.bin"));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let offset = 0;
  const slots = manifest.slots.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const values = all.slice(offset, offset + size);
    offset += size;
    return { ...s, values };
  });
  if (offset !== all.length)
    throw new CheckpointError(
      `${path.join(folder, "optimizer.bin")}: ${all.length} values, expected ${offset} for optimizer.json's slots; delete the checkpoints folder to start over`,
    );
  return { className: manifest.className, iterations: manifest.iterations, slots };
}

/** Keeps only the epoch folders that `last.json` or `best.json` point at. */
function pruneCheckpoints(dir: string): void {
  const keep = new Set([readPointer(dir, "last")?.dir, readPointer(dir, "best")?.dir]);
  for (const name of fs.readdirSync(dir)) {
    if (/^epoch-\d+$/.test(name) && !keep.has(name)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Keras's EarlyStopping(monitor="val_loss", patience, restore_best_weights=True): stops when val_loss has
 * not improved for `patience` epochs and puts the best epoch's weights back (tfjs's own callback cannot).
 */
export function earlyStopping(
  model: tf.LayersModel,
  patience: number,
  resume?: { state: EarlyStoppingState; bestWeights?: tf.Tensor[] },
): TrainCallbacks & { bestEpoch: () => number | undefined; stopped: () => boolean; state: () => EarlyStoppingState } {
  let stopped = false;
  let best = resume?.state.best ?? Infinity;
  let bestEpoch: number | undefined = resume?.state.bestEpoch ?? undefined;
  let bestWeights: tf.Tensor[] | undefined = resume?.bestWeights;
  let wait = resume?.state.wait ?? 0;
  return {
    bestEpoch: () => bestEpoch,
    stopped: () => stopped,
    state: () => ({ best: Number.isFinite(best) ? best : null, bestEpoch: bestEpoch ?? null, wait }),
    onEpochEnd: (epoch, logs) => {
      const value = logs.val_loss;
      if (value === undefined) throw new UserError("early stopping monitors val_loss; train with validation data");
      if (value < best) {
        best = value;
        bestEpoch = epoch;
        wait = 0;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((t) => t.clone());
      } else if (++wait >= patience) {
        stopped = true;
        model.stopTraining = true;
      }
    },
    onTrainEnd: () => {
      if (bestWeights) {
        model.setWeights(bestWeights);
        bestWeights.forEach((t) => t.dispose());
        bestWeights = undefined;
      }
    },
  };
}

/**
 * A run's checkpointing and early stopping, continuing from `resumed` (the last checkpoint's pointer) if
 * given: early stopping's counters and best weights and train()'s state (the schedule's position) come
 * back as they were, so a resumed run ends as an uninterrupted one. Pass `state` to train().
 */
export async function checkpointedCallbacks(
  model: tf.LayersModel,
  dir: string,
  patience: number | null,
  resumed?: CheckpointPointer,
  initialHistory?: History,
): Promise<{ callbacks: TrainCallbacks[]; stopper?: ReturnType<typeof earlyStopping>; state: TrainState }> {
  const stopper = patience
    ? earlyStopping(model, patience, resumed?.earlyStopping && { state: resumed.earlyStopping, bestWeights: await loadBestWeights(dir) })
    : undefined;
  const state: TrainState = structuredClone(resumed?.train ?? {});
  // The stopper first, so an epoch's checkpoint records the stopper's counters after that epoch.
  const callbacks = [...(stopper ? [stopper] : []), checkpointCallback(model, dir, initialHistory, { state, stopper })];
  return { callbacks, stopper, state };
}
