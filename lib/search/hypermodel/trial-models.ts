// Each trial's best-epoch model in the study folder (Keras Tuner's trial_xx/checkpoint), so getBestModels works for
// trials an earlier kernel ran: the model is rebuilt by the build function and given the saved weights.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { loadModel, saveModel } from "../../model/files";
import { StudyStorageError } from "../storage";

/** The folder of a trial's best-epoch model: <study>/trials/<id>/checkpoint (model.json + weights.bin). */
const trialCheckpointDir = (studyDir: string, id: string): string => path.join(studyDir, "trials", id, "checkpoint");

/** Saves `model` (its weights already the best epoch's) as the trial's checkpoint. */
export async function saveTrialModel(studyDir: string, id: string, model: tf.LayersModel): Promise<void> {
  await saveModel(model, trialCheckpointDir(studyDir, id));
}

/** True when the trial has a saved checkpoint. */
export const hasTrialModel = (studyDir: string, id: string): boolean =>
  fs.existsSync(path.join(trialCheckpointDir(studyDir, id), "model.json"));

/**
 * Gives `model` (just built from the trial's hyperparameters, compiled by the build function) the trial's saved
 * weights. Refuses in one sentence when the saved weights do not fit (the build function changed since).
 */
export async function loadTrialWeights(studyDir: string, id: string, model: tf.LayersModel): Promise<void> {
  const dir = trialCheckpointDir(studyDir, id);
  const saved = await loadModel(dir);
  try {
    const weights = saved.getWeights();
    const shapes = (ws: tf.Tensor[]) => ws.map((w) => `[${w.shape.join(",")}]`).join(" ");
    const want = model.getWeights();
    if (shapes(weights) !== shapes(want)) {
      throw new StudyStorageError(
        `${dir} holds weights ${shapes(weights)}, but the build function makes ${shapes(want)} from ${id}'s hyperparameters; ` +
          "the build function changed since the trial ran: pass overwrite: true to start the study over",
      );
    }
    model.setWeights(weights);
  } finally {
    saved.optimizer?.dispose();
    saved.dispose();
  }
}
