import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../io/atomic";
import type { BackendInfo } from "../engine/backend";
import type { ExperimentConfig } from "../config";
import { projectRoot } from "../io/paths";
import { historyToCsv, loadHistory } from "../results/history";
import { assertRunNotLocked, LOCK_NAME } from "./lock";
import type { History } from "../train/callbacks/callback";
import { loadModel, saveModel } from "../model/files";

export { projectPath, projectRoot } from "../io/paths";

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
    const learningRate = fs.existsSync(configFile)
      ? (JSON.parse(fs.readFileSync(configFile, "utf8")) as ExperimentConfig).learningRate
      : undefined;
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
