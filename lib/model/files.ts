import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../io/atomic";
import { isProcessAlive } from "../io/process";
import { compileModel, type OptimizerConfig } from "./factory";

/** A model folder that is missing, damaged or not a TensorFlow.js layers model. */
export class ModelFileError extends Error {
  override name = "ModelFileError";
}

/**
 * Saves in TensorFlow.js's layers format (model.json + weights.bin), loadable by tf.loadLayersModel.
 * Both files go into a temp folder that then replaces `dir`, so a kill leaves the previous complete model
 * (or, for an instant, none), never new weights beside an old model.json.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(dir);
  const tmp = path.join(parent, `.${base}.${process.pid}.${Date.now()}.tmp`);
  fs.mkdirSync(parent, { recursive: true });
  removeStaleModelTemps(parent, base);
  try {
    await writeModelFiles(model, tmp);
    const old = path.join(parent, `.${base}.${process.pid}.${Date.now()}.old`);
    if (fs.existsSync(dir)) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Temp folders of a save that was killed (their pid no longer runs) are debris; clear them. */
function removeStaleModelTemps(parent: string, base: string): void {
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d+)\\.\\d+\\.(tmp|old)$`);
  for (const name of fs.readdirSync(parent)) {
    const m = pattern.exec(name);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1])))
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
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
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
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
