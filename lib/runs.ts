import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "./atomic";
import type { BackendInfo } from "./backend";
import { resolveConfig, type ExperimentConfig } from "./config";
import { compileModel } from "./model";
import { isProcessAlive } from "./lock";
import { projectRoot } from "./paths";
import { historyToCsv, loadHistory } from "./history";
import { assertRunNotLocked, LOCK_NAME } from "./lock";
import type { History } from "./train";

export { projectPath, projectRoot } from "./paths";

export class RunError extends Error {
  override name = "RunError";
}

/** Files of a run folder; every write is atomic. */
export class Run {
  constructor(readonly dir: string) {}

  file(name: string): string {
    return path.join(this.dir, name);
  }
  get figuresDir(): string {
    return this.file("figures");
  }
  get modelDir(): string {
    return this.file("model");
  }
  get checkpointsDir(): string {
    return this.file("checkpoints");
  }
  get notebooksDir(): string {
    return this.file("notebooks");
  }

  writeJson(name: string, value: unknown): string {
    const file = this.file(name);
    writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
    return file;
  }
  readJson<T>(name: string): T {
    const file = this.file(name);
    if (!fs.existsSync(file)) throw new RunError(`${file} does not exist; run the step that writes it first`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  }
  writeText(name: string, text: string): string {
    const file = this.file(name);
    writeFileAtomic(file, text);
    return file;
  }

  saveConfig(config: ExperimentConfig): void {
    this.writeJson("config.json", config);
  }
  saveEnvironment(backend: BackendInfo): void {
    this.writeJson("environment.json", environment(backend));
  }
  saveHistory(history: History): void {
    this.writeText("history.csv", historyToCsv(history));
    this.writeJson("history.json", { epoch: history.epoch, history: history.history, params: history.params, seconds: history.seconds });
  }
  loadHistory(): History {
    const file = this.file("history.csv");
    if (!fs.existsSync(file)) throw new RunError(`${file} does not exist; train first (notebook 04 or \`fashion-ann train\`)`);
    return loadHistory(file);
  }
  async saveModel(model: tf.LayersModel): Promise<void> {
    await saveModel(model, this.modelDir);
  }
  /** The trained model, compiled as it was trained (learning rate from this run's config.json). */
  async loadModel(): Promise<tf.LayersModel> {
    const configFile = this.file("config.json");
    const learningRate = fs.existsSync(configFile) ? (JSON.parse(fs.readFileSync(configFile, "utf8")) as ExperimentConfig).learningRate : undefined;
    return loadModel(this.modelDir, { learningRate });
  }
}

/** A timestamped run name such as 20261125-101500. */
export function defaultRunName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/**
 * Creates a new run folder; an existing non-empty one is refused unless `force`, and one another live
 * process is writing (its `.lock`) is refused even with `force`.
 */
export function createRun(dir: string, options: { force?: boolean } = {}): Run {
  const abs = path.resolve(dir);
  assertRunNotLocked(abs);
  if (fs.existsSync(abs) && fs.readdirSync(abs).some((f) => f !== LOCK_NAME) && !options.force) {
    throw new RunError(`run folder ${abs} already exists and is not empty; choose another --out or pass --force to overwrite`);
  }
  // --force means a fresh run: nothing of the old one (checkpoints, model, figures) may leak into it.
  if (options.force && fs.existsSync(abs)) {
    for (const f of fs.readdirSync(abs)) if (f !== LOCK_NAME) fs.rmSync(path.join(abs, f), { recursive: true, force: true });
  }
  fs.mkdirSync(abs, { recursive: true });
  return new Run(abs);
}

/**
 * Opens a run folder, creating it if missing (notebooks share one folder, each adding its results).
 * A relative path is relative to the working directory: the notebooks' "../runs/interactive" from notebooks/.
 * Refused while another live process (e.g. `fashion-ann train`) holds the folder's lock; a stale lock or this
 * process's own does not block, so cells can be re-run.
 */
export function openRun(dir: string): Run {
  const abs = path.resolve(dir);
  assertRunNotLocked(abs);
  fs.mkdirSync(abs, { recursive: true });
  return new Run(abs);
}

export function environment(backend: BackendInfo): Record<string, unknown> {
  return {
    backend,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    versions: { tfjs: tf.version.tfjs, fashionAnn: require(path.join(projectRoot(), "package.json")).version },
    date: new Date().toISOString(),
  };
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
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
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
 * loss, metric and SGD (tfjs does not save the training config of a Sequential model).
 */
export async function loadModel(dir: string, options: { learningRate?: number } = {}): Promise<tf.LayersModel> {
  const jsonFile = path.join(dir, "model.json");
  if (!fs.existsSync(jsonFile)) throw new RunError(`${jsonFile} does not exist; train a model first`);
  let json: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  } catch (err) {
    throw new RunError(`${jsonFile} is not valid JSON (${(err as Error).message}); the file is damaged, train again`);
  }
  if (!json.modelTopology || !json.weightsManifest?.length) {
    throw new RunError(`${jsonFile} lacks modelTopology or weightsManifest; expected a TensorFlow.js layers model`);
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const weightData = Buffer.concat(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== expected) {
    throw new RunError(`${path.join(dir, "weights.bin")}: ${weightData.byteLength} bytes, expected ${expected} for the weights in model.json; the file is truncated or from another model`);
  }
  const ab = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: ab }));
  compileModel(model, options.learningRate ?? resolveConfig().learningRate);
  return model;
}
