import * as fs from "node:fs";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import type { LabeledImages } from "../../data/images";
import type { Logs } from "../../train/callbacks/callback";
import { train } from "../../train/fit";
import { stableStringify } from "../core/json";
import { bestOf, type Objective, objectiveFor } from "../core/objective";
import { type ResultRow, rankTrials, resultRows } from "../core/results";
import type { ParamSpec, SearchSpace } from "../core/space";
import type { Action } from "../core/study";
import { exportStudy } from "../export";
import { writeTrialsCsv } from "../report";
import { deleteStudy, EMBEDDED_DIR, StudyStorageError } from "../storage";
import { redactUrl, storageUrlProblem } from "../storage/url";
import { claimStudyFolder, STUDY_FOLDER_FILE } from "../study-folder";
import { saveStudyFigures, studyFiguresOf, writeStudyReport } from "../study-report";
import { type PrunerName, prunerSpec, type Tuner, TunerSpec, tunerFor } from "../tuner";
import { HyperParameters, registeredSpace } from "./hyperparameters";
import { hasTrialModel, loadTrialWeights, saveTrialModel } from "./trial-models";
import { memoryStudy, storedStudy, type TunerStudy, type TunerTrial } from "./tuner-study";

/** Keras Tuner's build_model(hp): builds and compiles a model from the trial's hyperparameters. */
export type BuildModel = (hp: HyperParameters) => tf.LayersModel;

export interface HyperTunerOptions {
  /** How trials are chosen: "random" (Keras Tuner's RandomSearch), "grid", or another sampler of the registry. */
  tuner?: string;
  /** Trials to run (grid: at most). Default 10. */
  maxTrials?: number;
  /** Epochs each trial trains (less if pruned). */
  maxEpochs: number;
  /** A history key: val_accuracy (maximised, the default) or val_loss (minimised), ... */
  objective?: string;
  pruner?: PrunerName;
  /** Seeds the draws; training is seeded by each model's own initializers and `seed`. Default 42. */
  seed?: number;
  /** Mini-batch size of every trial's fit. Default 32 (Keras's). */
  batchSize?: number;
  /** Models kept in memory for getBestModels, best first; the others are disposed. Default 3. */
  keepModels?: number;
  /**
   * Keras Tuner's `directory`: the study is kept in `directory/projectName` as `fashion-ann search --out` keeps one
   * (embedded database, trials.csv, each trial's best-epoch model in trials/<id>/checkpoint, figures/, report.html,
   * study.csv and optuna-journal.log), and running search again resumes it. Default: the study lives in memory only.
   */
  directory?: string;
  /** Keras Tuner's `project_name`: the study folder's name inside `directory`, and the study's name. Default "untitled_project". */
  projectName?: string;
  /** postgresql://user:password@host:port/db: the study in a PostgreSQL server (as `search --storage`); needs `directory` for the trials' models. */
  storage?: string;
  /** Keras Tuner's `overwrite`: start the study over, deleting the one in `directory/projectName` (or in `storage`). Default false: resume. */
  overwrite?: boolean;
  /** Draw the study figures and report.html (headless Chromium) when search ends, with a `directory`. Default true. */
  report?: boolean;
  log?: (s: string) => void;
}

/** A finished trial's model, with the weights of its best epoch (Keras Tuner reloads the best checkpoint too). */
interface KeptModel {
  id: string;
  model: tf.LayersModel;
}

/** Keras Tuner's default project_name. */
const DEFAULT_PROJECT = "untitled_project";

/**
 * Keras Tuner's Tuner for a notebook: `new HyperTuner(buildModel, options)`, `await tuner.search(data)`, then
 * resultsSummary, getBestHyperparameters, getBestModels. Trials are chosen by the study's samplers and stopped by its
 * pruners (the same core as `fashion-ann search`), in this process, one after the other. With `directory`, the study
 * is kept in `search`'s storage (tuner-study.ts), so re-running search resumes it; without, it is kept in memory.
 * The space is what the build function asks hp for: a parameter first met inside an `if` (Keras Tuner's conditional
 * hyperparameters) gets its default in that trial and is drawn in the next ones, as in Keras Tuner.
 */
export class HyperTuner {
  readonly objective: Objective;
  /** The study folder (directory/projectName), when the study is stored. */
  readonly studyDir: string | undefined;
  private readonly tuner: Tuner;
  private readonly spec: TunerSpec;
  private readonly registry = new Map<string, ParamSpec>();
  private readonly memory: TunerStudy | undefined;
  private shown: TunerTrial[] = [];
  private kept: KeptModel[] = [];
  private overwritten = false;

  constructor(
    private readonly build: BuildModel,
    private readonly options: HyperTunerOptions,
  ) {
    const kind = options.tuner ?? "random";
    if (kind === "hyperband") {
      throw new TypeError(
        'HyperTuner runs each trial in one go; use tuner "random" or "grid" with a pruner ("asha" halves like Hyperband)',
      );
    }
    const base = { kind, maxEpochs: options.maxEpochs, pruning: prunerSpec(kind, options.pruner ?? "none") };
    const budget =
      kind === "grid" ? { maxTrials: options.maxTrials ?? null } : { maxTrials: options.maxTrials ?? 10, seed: options.seed ?? 42 };
    this.spec = TunerSpec.parse({ ...base, ...budget });
    this.tuner = tunerFor(this.spec);
    this.objective = objectiveFor(options.objective ?? "val_accuracy");
    this.studyDir = studyFolderOf(options);
    this.memory = this.studyDir ? undefined : memoryStudy(this.tuner, this.objective);
  }

  /** Every trial so far, in start order: params (the values its build used), status, objective per epoch, seconds. */
  get trials(): TunerTrial[] {
    return this.shown;
  }

  /**
   * Keras Tuner's tuner.search(x, y, validation_data=...): runs trials until the sampler is done. A stored study
   * resumes: finished trials are not run again, and one an earlier kernel left mid-way is run again from its start.
   */
  async search(data: { train: LabeledImages; valid: LabeledImages }): Promise<void> {
    const log = this.options.log ?? console.log;
    const study = await this.openStudy(log);
    try {
      this.adoptStoredSpace(study.storedSpace);
      this.shown = await study.trials();
      for (;;) {
        const action = await study.next(registeredSpace(this.registry));
        if (action.kind === "done") break;
        await this.runTrial(study, action, data, log);
        this.shown = await study.trials();
        if (this.studyDir) writeTrialsCsv(path.join(this.studyDir, "trials.csv"), this.shownStored(), this.objective);
      }
    } finally {
      if (study !== this.memory) await study.close();
    }
    if (this.studyDir) await this.writeStudyFiles(study.where, log);
    await this.reloadBestModels();
  }

  /** The memory study, or the stored one (created, resumed, or deleted first when overwrite). */
  private async openStudy(log: (s: string) => void): Promise<TunerStudy> {
    if (!this.studyDir) return this.memory!;
    const dir = this.studyDir;
    const name = this.options.projectName ?? DEFAULT_PROJECT;
    if (this.options.overwrite && !this.overwritten) {
      await removeStudy(dir, this.options.storage, name);
      this.overwritten = true;
      this.kept.splice(0).forEach((k) => k.model.dispose());
      this.registry.clear();
    }
    fs.mkdirSync(dir, { recursive: true });
    const def = { name, tuner: this.spec, space: {}, objective: this.objective, fixed: { batchSize: this.options.batchSize ?? 32 } };
    const fix = `pass overwrite: true to start it over, or another projectName`;
    const study = await storedStudy(def, { storage: this.options.storage, folder: dir, fix });
    try {
      const trials = await study.trials();
      claimStudyFolder(dir, name, trials.length > 0);
      if (trials.length > 0) {
        this.checkBuildAgainst(study.storedSpace, `study "${name}" in ${study.where}`);
        const done = trials.filter((t) => t.status !== "running" && t.status !== "pending").length;
        log(`Reloading the study "${name}" from ${study.where}: ${done} of its ${trials.length} trials finished`);
      }
    } catch (err) {
      await study.close();
      throw err;
    }
    return study;
  }

  /**
   * Builds a model from the defaults (Keras Tuner populates its space the same way) and checks every parameter it
   * asks for against the stored study's: another build function, or other ranges, would mix two searches in one table.
   */
  private checkBuildAgainst(stored: SearchSpace, what: string): void {
    const probe = new Map<string, ParamSpec>();
    const model = this.build(new HyperParameters({}, probe));
    model.optimizer?.dispose();
    model.dispose();
    for (const [name, spec] of probe) {
      const known = stored[name];
      if (!known) {
        throw new StudyStorageError(
          `${what} was searched by another build function: it has no hp "${name}" (it has ${Object.keys(stored).sort().join(", ") || "none"}); pass overwrite: true to start it over, or another projectName`,
        );
      }
      if (stableStringify(known) !== stableStringify(spec)) {
        throw new StudyStorageError(
          `${what} searched hp "${name}" as ${stableStringify(known)}, this build function declares ${stableStringify(spec)}; pass overwrite: true to start it over, or another projectName`,
        );
      }
    }
  }

  /** The parameters a resumed study had met, so its next suggestions draw them all (as the last session's did). */
  private adoptStoredSpace(stored: SearchSpace): void {
    for (const [name, spec] of Object.entries(stored)) if (!this.registry.has(name)) this.registry.set(name, spec);
  }

  private async runTrial(
    study: TunerStudy,
    action: Extract<Action, { kind: "start" | "continue" }>,
    data: { train: LabeledImages; valid: LabeledImages },
    log: (s: string) => void,
  ) {
    const id = action.trialId;
    const earlier = this.shown.find((t) => t.id === id);
    // A trial an earlier kernel left mid-way runs again from its start, as Keras Tuner does (its optimizer state is not kept).
    if (action.kind === "continue") log(`${id} restarts: an earlier session stopped it after epoch ${action.fromEpoch}`);
    const params = action.kind === "start" ? action.params : (earlier?.params ?? {});
    const epochs = action.kind === "start" ? action.epochs : action.toEpoch;
    const hp = new HyperParameters(params, this.registry);
    const started = performance.now();
    const model = this.build(hp);
    await study.setParams(id, { ...hp.values }, registeredSpace(this.registry));
    const { pruned, bestWeights } = await this.fitTrial(study, id, model, epochs, data);
    const seconds = (performance.now() - started) / 1000;
    await study.finish(id, pruned ? "pruned" : "completed", seconds);
    if (bestWeights) model.setWeights(bestWeights);
    for (const w of bestWeights ?? []) w.dispose();
    if (this.studyDir) await saveTrialModel(this.studyDir, id, model);
    const trials = await study.trials();
    this.keep(id, model, trials);
    const row = resultRows(trials, this.objective).find((r) => r.trial === id)!;
    log(`${id} ${pruned ? "pruned" : "completed"}${scoreText(row, this.objective)}, ${seconds.toFixed(1)} s ${JSON.stringify(hp.values)}`);
  }

  /** Trains one trial, recording each epoch and asking the pruner; keeps a copy of the best epoch's weights. */
  private async fitTrial(
    study: TunerStudy,
    id: string,
    model: tf.LayersModel,
    epochs: number,
    data: { train: LabeledImages; valid: LabeledImages },
  ): Promise<{ pruned: boolean; bestWeights: tf.Tensor[] | undefined }> {
    let pruned = false;
    let bestWeights: tf.Tensor[] | undefined;
    const history: number[] = [];
    const metrics: Record<string, number[]> = {};
    const onEpochEnd = async (_epoch: number, logs: Logs) => {
      history.push(logs[this.objective.name] ?? Number.NaN);
      for (const [k, v] of Object.entries(logs)) metrics[k] = [...(metrics[k] ?? []), v];
      if (bestOf(history, this.objective.direction)?.epoch === history.length) {
        for (const w of bestWeights ?? []) w.dispose();
        bestWeights = model.getWeights().map((w) => w.clone());
      }
      if (await study.recordEpochs(id, [...history], structuredClone(metrics))) {
        pruned = true;
        model.stopTraining = true;
      }
    };
    const config = { epochs, batchSize: this.options.batchSize ?? 32, seed: this.options.seed ?? 42 };
    await train(model, data, config, { callbacks: { onEpochEnd }, progress: "none" });
    return { pruned, bestWeights };
  }

  /** Keeps the best `keepModels` models (by their trials' scores); disposes the rest. */
  private keep(id: string, model: tf.LayersModel, trials: readonly TunerTrial[]): void {
    this.kept.push({ id, model });
    const order = rankTrials(trials, this.objective).map((t) => t.id);
    this.kept.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    for (const k of this.kept.splice(this.options.keepModels ?? 3)) k.model.dispose();
  }

  /**
   * After a resume, the best trials may have run in an earlier kernel: their models are rebuilt from their
   * hyperparameters and given the best-epoch weights saved in trials/<id>/checkpoint (Keras Tuner's load_model).
   */
  private async reloadBestModels(): Promise<void> {
    const dir = this.studyDir;
    if (!dir) return;
    const best = resultRows(this.shown, this.objective)
      .filter((r) => r.best !== null)
      .slice(0, this.options.keepModels ?? 3);
    for (const r of best) {
      if (this.kept.some((k) => k.id === r.trial) || !hasTrialModel(dir, r.trial)) continue;
      const model = this.build(HyperParameters.fromValues(r.params));
      await loadTrialWeights(dir, r.trial, model);
      this.keep(r.trial, model, this.shown);
    }
  }

  /** trials.csv, the Optuna export (study.csv, optuna-journal.log) and, unless report is false, figures/ and report.html. */
  private async writeStudyFiles(where: string, log: (s: string) => void): Promise<void> {
    const dir = this.studyDir!;
    const name = this.options.projectName ?? DEFAULT_PROJECT;
    const space = registeredSpace(this.registry);
    writeTrialsCsv(path.join(dir, "trials.csv"), this.shownStored(), this.objective);
    exportStudy(dir, name, space, this.objective, this.shown);
    let report = "";
    if (this.options.report !== false) {
      const { figures } = studyFiguresOf(this.shown, space, this.objective);
      await saveStudyFigures(figures, path.join(dir, "figures"));
      report = `, figures/, ${path.basename(await writeStudyReport(dir, name, this.shown, space, this.objective, figures))}`;
    }
    log(`Study "${name}" in ${where}: trials.csv, study.csv, optuna-journal.log${report} in ${dir}`);
  }

  /** The trials as trials.csv takes them (the stored study's rows). */
  private shownStored() {
    return this.shown.map((t) => ({ ...t, owner: null, claims: 0 }));
  }

  /** Keras Tuner's results_summary(num_trials): the best n trials, their hyperparameters and score; printed and returned. */
  resultsSummary(n = 10): string {
    const rows = resultRows(this.shown, this.objective).slice(0, n);
    const lines = [
      "Results summary",
      `Showing ${rows.length} best trials`,
      `Objective(name="${this.objective.name}", direction="${this.objective.direction}")`,
      ...rows.flatMap((r) => [
        "",
        `Trial ${r.trial} summary (${r.status}, ${r.epochsRun} epochs${r.seconds === null ? "" : `, ${r.seconds.toFixed(1)} s`})`,
        "Hyperparameters:",
        ...Object.entries(r.params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
        `Score:${scoreText(r, this.objective)}`,
      ]),
    ];
    const text = lines.join("\n");
    (this.options.log ?? console.log)(text);
    return text;
  }

  /** Keras Tuner's get_best_hyperparameters(num_trials): the best n trials' values, best first. */
  getBestHyperparameters(n = 1): HyperParameters[] {
    return resultRows(this.shown, this.objective)
      .filter((r) => r.best !== null)
      .slice(0, n)
      .map((r) => HyperParameters.fromValues(r.params));
  }

  /** Keras Tuner's get_best_models(num_models): the best n trials' models at their best epoch (at most keepModels). */
  getBestModels(n = 1): tf.LayersModel[] {
    if (n > (this.options.keepModels ?? 3)) {
      throw new RangeError(
        `getBestModels(${n}): only the best ${this.options.keepModels ?? 3} models are kept; pass keepModels: ${n} to the HyperTuner`,
      );
    }
    return this.kept.slice(0, n).map((k) => k.model);
  }
}

const scoreText = (r: ResultRow, objective: Objective): string =>
  r.best === null ? " (no finite score)" : ` ${objective.name} ${r.best.toFixed(4)} at epoch ${r.bestEpoch} of ${r.epochsRun}`;

/** directory/projectName, or undefined for a study in memory; refuses a bad storage option in one sentence. */
function studyFolderOf(o: HyperTunerOptions): string | undefined {
  if (o.storage !== undefined) {
    const problem = storageUrlProblem(o.storage);
    if (problem)
      throw new StudyStorageError(
        `HyperTuner storage ${redactUrl(o.storage)}: ${problem.replace("no --storage", "no storage").replace("--out folder", "directory")}`,
      );
    if (o.directory === undefined) {
      throw new StudyStorageError(
        `HyperTuner storage ${redactUrl(o.storage)} needs a directory too: each trial's best model is saved in directory/projectName/trials/`,
      );
    }
  }
  if (o.directory === undefined) {
    if (o.projectName !== undefined || o.overwrite !== undefined) {
      throw new StudyStorageError("HyperTuner projectName and overwrite name a study folder inside directory; give directory too");
    }
    return undefined;
  }
  const name = o.projectName ?? DEFAULT_PROJECT;
  if (!/^[\w.-]+$/.test(name) || name === "." || name === "..") {
    throw new StudyStorageError(
      `HyperTuner projectName ${JSON.stringify(name)}: expected a folder name of letters, digits, ".", "_" or "-"`,
    );
  }
  return path.resolve(o.directory, name);
}

/**
 * overwrite: true. The study folder goes only when it is one (study.json or the embedded database in it), so a
 * mistyped directory never deletes someone's files; a PostgreSQL study is deleted from its server.
 */
async function removeStudy(dir: string, storage: string | undefined, name: string): Promise<void> {
  if (storage) await deleteStudy(storage, name);
  if (!fs.existsSync(dir)) return;
  const isStudy = fs.existsSync(path.join(dir, STUDY_FOLDER_FILE)) || fs.existsSync(path.join(dir, EMBEDDED_DIR));
  if (isStudy) fs.rmSync(dir, { recursive: true, force: true });
  else if (fs.readdirSync(dir).length > 0) {
    throw new StudyStorageError(
      `${dir} is not a study folder (no ${STUDY_FOLDER_FILE}), so overwrite: true does not delete it; give another directory or projectName`,
    );
  }
}
