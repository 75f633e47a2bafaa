import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../../io/atomic";
import { loadModel, saveModel } from "../../model/files";
import type { History, Logs, TrainCallbacks } from "./callback";

/** What `checkpoints/last.json` and `best.json` point at. */
export interface CheckpointPointer {
  /** 0-based epoch whose end state was saved. */
  epoch: number;
  /** Folder (relative to checkpoints/) holding model.json + weights.bin. */
  dir: string;
  val_loss?: number;
  /** The history up to and including `epoch` (for resuming). */
  history: Pick<History, "epoch" | "history" | "seconds">;
}

/**
 * Saves the model after every epoch into `checkpoints/epoch-NNN/`, then switches the pointer file
 * `last.json` (and `best.json` when val_loss improved) with one atomic rename: a kill at any moment
 * leaves the previous complete checkpoint or the new one, never a half-written one.
 */
export function checkpointCallback(model: tf.LayersModel, dir: string, initial?: History): TrainCallbacks {
  let best = readPointer(dir, "best")?.val_loss ?? Infinity;
  let history: Pick<History, "epoch" | "history" | "seconds"> = initial
    ? { epoch: [...initial.epoch], history: structuredClone(initial.history), seconds: initial.seconds }
    : { epoch: [], history: {} };
  const started = performance.now();
  return {
    onEpochEnd: async (epoch: number, logs: Logs) => {
      history = {
        epoch: [...history.epoch, epoch],
        history: { ...history.history },
        seconds: (initial?.seconds ?? 0) + (performance.now() - started) / 1000,
      };
      for (const [k, v] of Object.entries(logs)) history.history[k] = [...(history.history[k] ?? []), v];
      const folder = `epoch-${String(epoch + 1).padStart(3, "0")}`;
      await saveModel(model, path.join(dir, folder));
      const pointer: CheckpointPointer = { epoch, dir: folder, val_loss: logs.val_loss, history };
      writeFileAtomic(path.join(dir, "last.json"), JSON.stringify(pointer));
      if (logs.val_loss !== undefined && logs.val_loss < best) {
        best = logs.val_loss;
        writeFileAtomic(path.join(dir, "best.json"), JSON.stringify(pointer));
      }
      pruneCheckpoints(dir);
    },
  };
}

export function readPointer(dir: string, which: "last" | "best"): CheckpointPointer | undefined {
  const file = path.join(dir, `${which}.json`);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointPointer;
  } catch (err) {
    throw new Error(`${file} is damaged (${(err as Error).message}); delete the checkpoints folder to start over`);
  }
}

/** Loads the model of the `last` or `best` checkpoint, with its pointer. */
export async function loadCheckpoint(
  dir: string,
  which: "last" | "best",
  learningRate?: number,
): Promise<{ model: tf.LayersModel; pointer: CheckpointPointer }> {
  const pointer = readPointer(dir, which);
  if (!pointer)
    throw new Error(`${path.join(dir, `${which}.json`)} does not exist: no epoch was completed in this run, so there is nothing to resume`);
  return { model: await loadModel(path.join(dir, pointer.dir), { learningRate }), pointer };
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
): TrainCallbacks & { bestEpoch: () => number | undefined; stopped: () => boolean } {
  let stopped = false;
  let best = Infinity;
  let bestEpoch: number | undefined;
  let bestWeights: tf.Tensor[] | undefined;
  let wait = 0;
  return {
    bestEpoch: () => bestEpoch,
    stopped: () => stopped,
    onEpochEnd: (epoch, logs) => {
      const value = logs.val_loss;
      if (value === undefined) throw new Error("early stopping monitors val_loss; train with validation data");
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
