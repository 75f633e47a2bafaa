import * as fs from "node:fs";
import * as path from "node:path";
import type * as dfd from "danfojs-node";
import { ExperimentConfig } from "../config";
import { lazyRequire } from "../io/lazy";
import { changedKeys } from "../figures/compare";
import { Run, RunError } from "./run";
import type { History } from "../train/callbacks/callback";

/** One row of a comparison: a run's hyperparameters and results. */
export interface RunSummary {
  name: string;
  dir: string;
  config: ExperimentConfig;
  history: History;
  bestValAccuracy: number;
  /** 1-based epoch of the best val_accuracy. */
  bestEpoch: number;
  testAccuracy?: number;
  seconds?: number;
}

const CONFIG_DEFAULTS = ExperimentConfig.parse({});
// danfojs loads with the first table, not with the library.
const danfo = lazyRequire<typeof dfd>("danfojs-node");

/** Reads what `compare` needs from each run folder; a folder that is not a run is a clear error. */
export function summarizeRuns(dirs: string[]): RunSummary[] {
  if (dirs.length === 0) throw new RunError("compare needs at least one run folder, e.g. runs/lr0.01");
  return dirs.map((dir) => {
    const run = new Run(path.resolve(dir));
    if (!fs.existsSync(run.file("config.json")))
      throw new RunError(`${run.dir}: no config.json; expected a run folder written by fashion-ann train or notebooks`);
    // Defaults fill the fields a run from an older version did not record, so they compare as what ran. A hand-built
    // model's run has "custom" in the fields of the tutorial's MLP, which then differ from other runs' and get a
    // column; what only it records (layers, optimizer config) is not a config field and gets none.
    const saved = run.readJson<Record<string, unknown>>("config.json");
    const config = {
      ...CONFIG_DEFAULTS,
      ...Object.fromEntries(Object.entries(saved).filter(([k]) => k in CONFIG_DEFAULTS)),
    } as ExperimentConfig;
    const history = run.loadHistory();
    const json = fs.existsSync(run.file("history.json")) ? run.readJson<{ seconds?: number }>("history.json") : {};
    const metrics = fs.existsSync(run.file("metrics.json")) ? run.readJson<{ test_accuracy?: number }>("metrics.json") : {};
    const valAcc = history.history.val_accuracy ?? [];
    const best = valAcc.reduce((b, v, i) => (v > valAcc[b]! ? i : b), 0);
    return {
      name: path.basename(run.dir),
      dir: run.dir,
      config,
      history,
      bestValAccuracy: valAcc[best] ?? NaN,
      bestEpoch: best + 1,
      testAccuracy: metrics.test_accuracy,
      seconds: json.seconds,
    };
  });
}

/** Config fields whose values differ between the runs (the ones worth a column). */
export function changedFields(summaries: RunSummary[]): (keyof ExperimentConfig)[] {
  return changedKeys(summaries.map((s) => s.config)) as (keyof ExperimentConfig)[];
}

// The figure is a pure spec in figures/; re-exported here for the callers that found it beside the table.
export { compareCurvesFigure } from "../figures/compare";

/** One row per run: the changed hyperparameters, best val_accuracy and its epoch, test accuracy, training time. */
export function comparisonTable(summaries: RunSummary[]): dfd.DataFrame {
  const changed = changedFields(summaries);
  const columns: Record<string, (string | number)[]> = { run: summaries.map((s) => s.name) };
  for (const k of changed) columns[k] = summaries.map((s) => JSON.stringify(s.config[k]));
  columns.epochs = summaries.map((s) => s.history.epoch.length);
  columns.best_val_accuracy = summaries.map((s) => round(s.bestValAccuracy));
  columns.best_epoch = summaries.map((s) => s.bestEpoch);
  columns.test_accuracy = summaries.map((s) => (s.testAccuracy === undefined ? "-" : round(s.testAccuracy)));
  columns.seconds = summaries.map((s) => (s.seconds === undefined ? "-" : Math.round(s.seconds)));
  // danfojs cuts every cell at 16 characters; size each column to its longest value instead.
  const widths = Object.fromEntries(
    Object.entries(columns).map(([name, values], i) => [
      i + 1,
      { width: Math.min(40, Math.max(name.length, ...values.map((v) => String(v).length))) },
    ]),
  );
  return new (danfo().DataFrame)(columns, {
    config: {
      tableMaxRow: Math.max(summaries.length, 10),
      tableMaxColInConsole: 20,
      tableDisplayConfig: { columns: { 0: { width: 3 }, ...widths } },
    },
  });
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Run folders (absolute paths) under `root`, in sweep folders and their trials/ (sweep-x/trials/trial-000), newest first. */
export function listRuns(dir: string): string[] {
  const root = path.resolve(dir);
  if (!fs.existsSync(root)) return [];
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const sub = path.join(dir, entry.name);
      if (fs.existsSync(path.join(sub, "history.csv")) && fs.existsSync(path.join(sub, "config.json"))) found.push(sub);
      else if (depth > 0) visit(sub, depth - 1);
    }
  };
  visit(root, 2);
  return found.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}
