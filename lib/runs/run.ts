import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../io/atomic";
import type { BackendInfo } from "../engine/backend";
import { type ExperimentConfig, sourcesOf } from "../config";
import { assertFolder, makeFolder, withPathErrors } from "../io/fs-errors";
import { projectRoot } from "../io/paths";
import { historyToCsv, loadHistory } from "../results/history";
import { assertRunNotLocked, LOCK_NAME } from "./lock";
import type { History } from "../train/callbacks/callback";
import type { BackendSwitch } from "../train/fit";
import { loadModel, saveModel } from "../model/files";
import { UserError } from "../errors/user-error";

export { projectPath } from "../io/paths";

export class RunError extends UserError {
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

  writeJson(name: string, value: unknown): string {
    const file = this.file(name);
    writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
    return file;
  }
  readJson<T>(name: string): T {
    const file = this.file(name);
    if (!fs.existsSync(file)) throw new RunError(`${file} does not exist; run the step that writes it first`);
    const text = withPathErrors(() => fs.readFileSync(file, "utf8"), file);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new RunError(`${file} is not valid JSON (${(err as Error).message}); the file is damaged, write it again`);
    }
  }
  writeText(name: string, text: string): string {
    const file = this.file(name);
    writeFileAtomic(file, text);
    return file;
  }

  /** config.json: the resolved config, and where each non-default value came from (flag, environment, file). */
  saveConfig(config: ExperimentConfig): void {
    this.writeJson("config.json", { ...config, sources: sourcesOf(config) });
  }
  /** `switched`: the history's engine.switched, so the file names the engine that trained, not only the one chosen. */
  saveEnvironment(backend: BackendInfo, switched?: BackendSwitch): void {
    this.writeJson("environment.json", environment(backend, switched));
  }
  saveHistory(history: History): void {
    this.writeText("history.csv", historyToCsv(history));
    const { epoch, params, seconds, diverged } = history;
    // JSON has no NaN: the loss that diverged is written as a string ("NaN", "Infinity").
    const divergence = diverged ? { diverged: { ...diverged, loss: String(diverged.loss) } } : {};
    this.writeJson("history.json", { epoch, history: history.history, params, seconds, ...divergence });
  }
  loadHistory(): History {
    const file = this.file("history.csv");
    if (!fs.existsSync(file)) throw new RunError(`${file} does not exist; train first (notebook 04 or \`fashion-ann train\`)`);
    return withPathErrors(() => loadHistory(file), file);
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
// The name lives with the project's paths, so the CLI's flags can name a run folder without loading tfjs.

/** What a run writes before its first epoch completes: a folder holding only these has no results to protect. */
// model.json: a hand-built model's architecture, written with its config (custom-run.ts).
const START_FILES = new Set(["config.json", "environment.json", "summary.txt", "model.json", "checkpoints", LOCK_NAME]);

/**
 * True if `dir` holds something besides a start that completed no epoch (config, environment, summary,
 * an empty checkpoints folder, a lock, hidden temp files): then it is a run, or someone else's folder.
 */
function holdsResults(dir: string): boolean {
  for (const f of fs.readdirSync(dir)) {
    if (/^\..+\.\d+\.\d+\.(tmp|old)$/.test(f)) continue;
    if (!START_FILES.has(f)) return true;
    if (f === "checkpoints") {
      const ckpt = path.join(dir, f);
      if (!fs.statSync(ckpt).isDirectory() || fs.readdirSync(ckpt).some((c) => !c.startsWith("."))) return true;
    }
  }
  return false;
}

/**
 * The one "folder not empty" check: throws unless `dir` is missing, empty, or holds only the leftovers of
 * a run that failed before its first epoch. `what` and `fix` finish the sentence.
 */
export function assertFolderFree(dir: string, what: string, fix: string): void {
  const abs = path.resolve(dir);
  withPathErrors(() => {
    if (!fs.existsSync(abs)) return;
    if (!fs.statSync(abs).isDirectory()) throw new RunError(`${what} ${abs} is a file, expected a folder; ${fix}`);
    if (holdsResults(abs)) throw new RunError(`${what} ${abs} already exists and is not empty; ${fix}`);
  }, abs);
}

/**
 * Removes what a run wrote before it failed, if it completed no epoch: so the same command can be retried
 * without --force. A folder with finished epochs (or anything else) is left alone.
 */
export function discardUnstartedRun(dir: string): boolean {
  const abs = path.resolve(dir);
  try {
    if (!fs.existsSync(abs) || holdsResults(abs)) return false;
    for (const f of fs.readdirSync(abs)) if (f !== LOCK_NAME) fs.rmSync(path.join(abs, f), { recursive: true, force: true });
    if (fs.readdirSync(abs).length === 0) fs.rmdirSync(abs);
    return true;
  } catch {
    // Best effort: the original error is what the user needs to see.
    return false;
  }
}

/**
 * Creates a new run folder; an existing one with results is refused unless `force`, and one another live
 * process is writing (its `.lock`) is refused even with `force`. Leftovers of a start that completed no
 * epoch do not block.
 */
export function createRun(dir: string, options: { force?: boolean } = {}): Run {
  const abs = path.resolve(dir);
  assertRunNotLocked(abs);
  if (!options.force) assertFolderFree(abs, "run folder", "choose another --out or pass --force to overwrite");
  withPathErrors(() => {
    // A fresh run: nothing of an old one (checkpoints, model, figures, a failed start) may leak into it.
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
      for (const f of fs.readdirSync(abs)) if (f !== LOCK_NAME) fs.rmSync(path.join(abs, f), { recursive: true, force: true });
    }
  }, abs);
  makeFolder(abs);
  return new Run(abs);
}

/**
 * An existing run folder given on the command line (evaluate, predict, report, compare, --resume): refused
 * in one sentence if it is missing, a file, or has no config.json.
 */
export function existingRun(dir: string): Run {
  const abs = path.resolve(dir);
  const hint = "pass a run folder written by `fashion-ann train` or the notebooks";
  assertFolder(abs, "run folder", hint);
  if (!fs.existsSync(path.join(abs, "config.json"))) throw new RunError(`${abs} has no config.json, so it is not a run folder; ${hint}`);
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
  makeFolder(abs);
  return new Run(abs);
}

/**
 * The machine and the engine: `backend` is the one that trained; when train() moved the model off the one chosen
 * at start (the native engine hands a model its fused step does not cover to wasm), `backendAtStart` is that one
 * and `backendSwitch` says why.
 */
export function environment(backend: BackendInfo, switched?: BackendSwitch): Record<string, unknown> {
  return {
    backend: switched ? switched.to : backend,
    ...(switched && { backendAtStart: backend, backendSwitch: `${switched.reason}; trained on ${switched.to.name} instead` }),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    versions: { tfjs: tf.version.tfjs, fashionAnn: require(path.join(projectRoot(), "package.json")).version },
    date: new Date().toISOString(),
  };
}
