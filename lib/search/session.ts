import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import { childEnvironment, type ConfigOverrides, ExperimentConfig, resolveConfig } from "../config";
import { saveFig } from "../figures/render/chromium";
import { cliEntry, type HeartbeatOptions, SearchWorker } from "./driver";
import { bestOf, objectiveFor } from "./core/objective";
import { bestTrial } from "./core/results";
import { parseSearchSpace, type SearchSpace } from "./core/space";
import { trialCurvesFigure, trialsDataFrame, trialConfig, writeTrialsCsv } from "./report";
import { openStudy, type SqlStudyStore, type StoredTrial, StudyDatabaseLost, type StudyDefinition } from "./storage";
import { repairFromRunFolders } from "./repair";
import { claimStudyFolder } from "./study-folder";
import { killPoint } from "../io/kill-point";
import { PathError } from "../io/fs-errors";
import { type PrunerName, prunerSpec, REPRODUCIBLE_LAG, TunerSpec } from "./tuner";
import { exportStudy, type StudyExport } from "./export";
import { liveStudyView } from "./live-study";
import { studyPlotData } from "./analysis/study-view";
import type { StudyPlotData } from "../figures/study-style";
import { IMPORTANCE_METHOD, saveStudyFigures, studyFiguresOf, writeStudyReport } from "./study-report";
import { UserError } from "../errors/user-error";

export interface SearchOptions {
  /** The search-space JSON (already parsed), e.g. {"learningRate": {"type": "float", "min": 1e-4, "max": 0.03, "log": true}}. */
  space: unknown;
  tuner: "random" | "grid" | "hyperband" | "tpe" | "bayesian";
  /** Trials to run (random, tpe, bayesian; grid: at most; ignored by Hyperband, whose budget is maxEpochs). */
  maxTrials?: number;
  /** Epochs per trial (random, grid), or of the longest-trained models (Hyperband). */
  maxEpochs: number;
  /** A history key, e.g. val_accuracy (maximised) or val_loss (minimised). Default val_accuracy. */
  objective?: string;
  /** The study folder: trials/<id>/ run folders, trials.csv, figures/, best/ and the embedded database. */
  out: string;
  /** Trainers at once in this process (each with one wasm thread). Default 1. */
  parallel?: number;
  /** postgresql://user:password@host:port/db; default: the embedded database in `out`. */
  storage?: string;
  /** The study's name in the database (default: the folder name of `out`). */
  study?: string;
  /**
   * Seeds the random, TPE, Bayesian and Hyperband draws (default 42). Given explicitly, the study is also
   * reproducible under parallel workers (core/barrier.ts): the same trial table with 1, 2 or 3 workers. Hyperband
   * needs no barrier: its brackets and promotions are the same with any number of workers (samplers/hyperband.ts).
   */
  seed?: number;
  /** Stops weak trials early (every tuner but Hyperband): "median" (Optuna's MedianPruner), "asha" (successive halving), "none". */
  pruner?: PrunerName;
  /** The config every trial shares (flags and --set of the command). */
  fixed?: ConfigOverrides;
  heartbeat?: Partial<HeartbeatOptions>;
  /** Seconds a lost --storage server is retried (with backoff) before the worker stops its trainers (default 60). */
  storageRetrySeconds?: number;
  /** Retrain the best trial's config and evaluate it on the test set when the study is done (default true). */
  retrainBest?: boolean;
  /**
   * Also write the study for Python users into this folder: study.csv (pandas) and optuna-journal.log (Optuna's
   * JournalStorage), when the search ends or is interrupted.
   */
  exportDir?: string;
  /** In a notebook, draw the intermediate values below the cell while trials run (default true; no effect elsewhere). */
  live?: boolean;
  /**
   * A new trainer process for every trial, as before trainers were kept (default false: one process per --parallel
   * slot trains trial after trial). Only for measuring the fixed cost a kept process saves (bench/trial_cost.ts).
   */
  freshTrainers?: boolean;
  log?: (s: string) => void;
}

export interface SearchResult {
  trials: StoredTrial[];
  best?: StoredTrial;
  /** The retrained best model's test metrics, when this worker retrained it. */
  test?: { test_loss: number; test_accuracy: number };
  /** Set when a signal stopped the search (its trials resume on the next run). */
  interruptedBy?: NodeJS.Signals;
  /** What --export wrote, when asked. */
  exported?: StudyExport;
  /** The trials as the study figures draw them (optimizationHistoryFigure(result.plotData), ...). */
  plotData: StudyPlotData;
}

/**
 * The config schema's verdict on one value a space entry can give: why it is not allowed and what is (parseSearchSpace
 * puts the field and the value in front): a typo such as "nadamm" is found before the first trial, not when its trial fails.
 */
function configValueCheck(key: string, value: unknown): string | undefined {
  const field = (ExperimentConfig.shape as Record<string, z.ZodType | undefined>)[key];
  const result = field?.safeParse(value);
  if (!result || result.success) return undefined;
  const issue = result.error.issues[0]!;
  if (issue.code === "invalid_value") {
    return `is not a valid ${key}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  const where = issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  return `is not a valid ${key}${where} (${issue.message.replace(/^Invalid input: /, "").replace(/^Invalid input$/, "see the config's documentation")})`;
}

/** The study definition every worker must agree on, from the options. */
function studyDefinition(o: SearchOptions): StudyDefinition {
  const fields = Object.keys(ExperimentConfig.shape);
  const defaults = resolveConfig(o.fixed ?? {});
  const layers = { nHidden: defaults.hiddenUnits.length, nNeurons: defaults.hiddenUnits[0] ?? 1 };
  const space: SearchSpace = parseSearchSpace(o.space, fields, layers, configValueCheck);
  const seed = o.seed ?? 42;
  const pruning = prunerSpec(o.tuner, o.pruner ?? "none");
  // Only an explicit seed asks for a reproducible study: the barrier costs wall time (docs/tuning.md).
  const studyOpts = { pruning, ...(o.seed === undefined ? {} : { barrier: REPRODUCIBLE_LAG }) };
  const tuner = TunerSpec.parse(
    o.tuner === "hyperband"
      ? { kind: "hyperband", maxEpochs: o.maxEpochs, seed }
      : o.tuner === "grid"
        ? { kind: "grid", maxEpochs: o.maxEpochs, maxTrials: o.maxTrials ?? null, ...studyOpts }
        : { kind: o.tuner, maxEpochs: o.maxEpochs, maxTrials: o.maxTrials ?? 10, seed, ...studyOpts },
  );
  const fixed = { ...(o.fixed ?? {}) } as Record<string, unknown>;
  delete fixed.epochs; // the tuner sets each trial's epochs
  return {
    name: o.study ?? path.basename(path.resolve(o.out)),
    tuner,
    space,
    objective: objectiveFor(o.objective ?? "val_accuracy"),
    fixed,
  };
}

/**
 * Géron's Keras Tuner section as one call (what `fashion-ann search` runs): create or join the study, train
 * trials until the tuner is done, then print the results table, write trials.csv and the curves, and retrain
 * the best configuration. Re-running it continues the study; other processes with the same storage and study
 * name work on it too.
 */
export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  const log = o.log ?? console.log;
  const out = path.resolve(o.out);
  const def = studyDefinition(o);
  fs.mkdirSync(out, { recursive: true });
  const store = await openStudy(o.storage, out, def, o.storageRetrySeconds);
  const live = o.live === false ? undefined : liveStudyView(async () => (await store.load()).trials, def.space, def.objective);
  const worker = new SearchWorker(store, {
    out,
    parallel: o.parallel ?? 1,
    log,
    onChange: live?.shown ? () => live.changed() : undefined,
    intervalSeconds: o.heartbeat?.intervalSeconds ?? 10,
    timeoutSeconds: o.heartbeat?.timeoutSeconds ?? 60,
    freshTrainers: o.freshTrainers,
  });
  const onSignal = (s: NodeJS.Signals) => worker.stop(s);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    claimStudyFolder(out, def.name, (await store.load()).trials.length > 0);
    killPoint("study-created", out);
    log(`search: study "${def.name}" in ${store.where}, ${def.tuner.kind} tuner, worker ${worker.id} x${o.parallel ?? 1}`);
    for (const id of await repairFromRunFolders(store, out))
      log(`search: ${id} was recorded failed but its run folder completed: marked completed`);
    await worker.run().catch((err: unknown) => {
      // The study's own files (trial.json, TensorBoard sessions) on a full disk: the trainers were stopped like for any failure.
      if (err instanceof PathError && err.code === "ENOSPC") {
        throw new PathError(
          `${err.message}; the search stopped, every finished epoch kept; once there is room, re-run the same command to resume the study`,
          err.path,
          err.code,
        );
      }
      if (!(err instanceof StudyDatabaseLost)) throw err;
      throw new StudyDatabaseLost(
        `${err.message}; every trainer was stopped and its finished epochs are checkpointed in ${path.join(out, "trials")}; ` +
          `once the database answers again, re-run the same command to resume the study (the trials this worker held are taken back after the ${o.heartbeat?.timeoutSeconds ?? 60} s heartbeat timeout)`,
      );
    });
    if (live?.shown) await live.finish();
    const { trials } = await store.load();
    const exported = o.exportDir ? exportFor(store, trials, o.exportDir, log) : undefined;
    const plotData = studyPlotData(trials, def.space, def.objective);
    if (worker.stoppedBy) return { trials, plotData, interruptedBy: worker.stoppedBy, ...(exported && { exported }) };
    const finished = await finishStudy(store, trials, out, worker.id, o.retrainBest ?? true, log);
    return { trials, plotData, ...(exported && { exported }), ...finished };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await store.close();
  }
}

function exportFor(store: SqlStudyStore, trials: StoredTrial[], dir: string, log: (s: string) => void): StudyExport {
  const { name, space, objective } = store.definition;
  const exported = exportStudy(dir, name, space, objective, trials);
  log(`export: ${exported.csv} (pandas.read_csv) and ${exported.journal} (Optuna); in Python:\n${exported.loadWith}`);
  return exported;
}

async function finishStudy(
  store: SqlStudyStore,
  trials: StoredTrial[],
  out: string,
  worker: string,
  retrain: boolean,
  log: (s: string) => void,
) {
  const { objective, fixed } = store.definition;
  log(trialsDataFrame(trials, objective).toString());
  writeTrialsCsv(path.join(out, "trials.csv"), trials, objective);
  log(`results: ${path.join(out, "trials.csv")}`);
  if (trials.some((t) => t.metrics.val_accuracy?.length)) {
    log(`curves: ${await saveFig(trialCurvesFigure(trials, fixed), "trials_curves", { dir: path.join(out, "figures") })}`);
  }
  const { space, name } = store.definition;
  const { figures, importances } = studyFiguresOf(trials, space, objective);
  await saveStudyFigures(figures, path.join(out, "figures"));
  log(`study figures: ${Object.keys(figures).join(", ")} (PNG and SVG) in ${path.join(out, "figures")}`);
  if (Object.keys(importances).length > 0) {
    log(
      `importances (${IMPORTANCE_METHOD}): ${Object.entries(importances)
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(", ")}`,
    );
  }
  log(`report: ${await writeStudyReport(out, name, trials, space, objective, figures)}`);
  const best = bestTrial(trials, objective);
  if (!best) return {};
  // bestTrial picks only a trial with a finite objective, so bestOf finds its epoch.
  const { value, epoch: bestEpoch } = bestOf(best.history, objective.direction)!;
  log(`best: ${best.id} ${JSON.stringify(best.params)}, ${objective.name} ${value.toFixed(4)} at epoch ${bestEpoch}`);
  if (!retrain || !(await store.claimFinal(worker))) return { best };
  const config = { ...trialConfig(fixed, best), epochs: bestEpoch };
  const dir = path.join(out, "best");
  log(`retraining ${best.id}'s config for its best ${bestEpoch} epochs into ${dir}, then the test set`);
  const code = await new Promise<number | null>((resolve) => {
    const sets = Object.entries(config).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]);
    const child = spawn(process.execPath, [cliEntry(), "train", "--out", dir, "--force", ...sets], {
      stdio: ["ignore", "inherit", "inherit"],
      env: childEnvironment(),
    });
    child.on("exit", resolve);
  });
  if (code !== 0) {
    await store.releaseFinal(worker);
    throw new UserError(`retraining the best config into ${dir} failed (exit ${code}); re-run the same command to retry`);
  }
  const test = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"));
  log(`best config on the test set: test_accuracy ${test.test_accuracy.toFixed(4)}, test_loss ${test.test_loss.toFixed(4)}`);
  return { best, test };
}
