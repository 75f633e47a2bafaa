import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { deadTemps, removeDeadTemps, tempName, writeFileAtomic } from "../io/atomic";
import { makeFolder, PathError, withPathErrors } from "../io/fs-errors";
import { compileModel, type OptimizerConfig } from "./factory";
import { UserError } from "../errors/user-error";

/** A model folder that is missing, damaged or not a TensorFlow.js layers model. */
export class ModelFileError extends UserError {
  override name = "ModelFileError";
}

/**
 * Saves in TensorFlow.js's layers format (model.json + weights.bin), loadable by tf.loadLayersModel.
 * Both files go into a temp folder that then replaces `dir` in two renames (old `dir` aside to `.old`,
 * temp into place), so a kill leaves the previous complete model, the new one, or, between the two
 * renames, no `dir` and the previous model complete in `.<name>.<pid>.<ms>.old`, which the next save or
 * load puts back. A failed save (disk full) throws a PathError and keeps the previous model.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const tmp = tempName(target);
  const old = tempName(target, "old");
  makeFolder(parent);
  recoverInterruptedSave(target);
  removeDeadTemps(parent, path.basename(target), ["tmp", "old"]);
  try {
    await writeModelFiles(model, tmp);
    withPathErrors(() => {
      if (fs.existsSync(target)) fs.renameSync(target, old);
      fs.renameSync(tmp, target);
    }, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    // A PathError from writeFileAtomic names the file inside the temp folder; name the model folder instead.
    if (err instanceof PathError) {
      const kept = fs.existsSync(target) ? "the previous complete model is kept" : "nothing was written there";
      const sentence = err.message.replaceAll(tmp, target).replace(/; (the previous complete file is kept|nothing was written)$/, "");
      throw new PathError(`${sentence}; ${kept}`, target, err.code);
    }
    throw err;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A save killed between its two renames left no `dir` but the previous complete model in a dead
 * process's `.old` folder: put the newest such folder back. Returns true if it did.
 */
function recoverInterruptedSave(dir: string): boolean {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) return false;
  const olds = deadTemps(path.dirname(target), path.basename(target), "old");
  const newest = olds.at(-1);
  if (!newest || !fs.existsSync(path.join(newest, "model.json"))) return false;
  fs.renameSync(newest, target);
  return true;
}

async function writeModelFiles(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      writeFileAtomic(path.join(dir, "weights.bin"), weights);
      const json = {
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      };
      // model.json last: its presence marks a complete save.
      writeFileAtomic(path.join(dir, "model.json"), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.byteLength } };
    }),
  );
}

/**
 * Loads a model saved by saveModel (or any layers model.json) from a folder, compiled with the tutorial's
 * loss and metric, and the given optimizer (default: the tutorial's SGD), since tfjs does not save the
 * training config of a Sequential model.
 */
export async function loadModel(
  dir: string,
  options: { learningRate?: number; optimizer?: Partial<OptimizerConfig> } = {},
): Promise<tf.LayersModel> {
  const jsonFile = path.join(dir, "model.json");
  recoverInterruptedSave(dir);
  if (!fs.existsSync(jsonFile)) throw new ModelFileError(`${jsonFile} does not exist; train a model first`);
  let json: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  } catch (err) {
    throw new ModelFileError(`${jsonFile} is not valid JSON (${(err as Error).message}); the file is damaged, train again`);
  }
  if (!json.modelTopology || !json.weightsManifest?.length) {
    throw new ModelFileError(`${jsonFile} lacks modelTopology or weightsManifest; expected a TensorFlow.js layers model`);
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => withPathErrors(() => fs.readFileSync(path.join(dir, p)))));
  const weightData = Buffer.concat(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== expected) {
    throw new ModelFileError(
      `${path.join(dir, "weights.bin")}: ${weightData.byteLength} bytes, expected ${expected} for the weights in model.json; the file is truncated or from another model`,
    );
  }
  const ab = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: ab }),
  );
  compileModel(model, { ...options.optimizer, ...(options.learningRate === undefined ? {} : { learningRate: options.learningRate }) });
  return model;
}
