import { UserError } from "../errors/user-error";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as dfd from "danfojs-node";
import type * as Table from "table";
import { type ExperimentConfig, resolveConfig } from "../config";
import { lazyRequire } from "../io/lazy";
import { changedKeys, legendValue, shortName } from "../figures/compare";
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

// Resolved (the tutorial's learning rate included) and without the environment's overrides.
const CONFIG_DEFAULTS = resolveConfig({}, {});
// danfojs loads with the first table, not with the library.
const danfo = lazyRequire<typeof dfd>("danfojs-node");
const tables = lazyRequire<typeof Table>("table");

/** Reads what `compare` needs from each run folder; a folder that is not a run is a clear error. */
export function summarizeRuns(dirs: string[], onDamaged?: (dir: string, err: UserError) => void): RunSummary[] {
  if (dirs.length === 0) throw new RunError("compare needs at least one run folder, e.g. runs/lr0.01");
  if (!onDamaged) return dirs.map(summarizeRun);
  // A damaged run among good ones is named and left out, so the others are still compared; all damaged is an error.
  const summaries = dirs.flatMap((dir) => {
    try {
      return [summarizeRun(dir)];
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      onDamaged(dir, err);
      return [];
    }
  });
  if (summaries.length === 0) throw new RunError(`none of the ${dirs.length} run folders could be read; see the lines above`);
  return summaries;
}

function summarizeRun(dir: string): RunSummary {
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
}

/** Config fields whose values differ between the runs (the ones worth a column). */
export function changedFields(summaries: RunSummary[]): (keyof ExperimentConfig)[] {
  return changedKeys(summaries.map((s) => s.config)) as (keyof ExperimentConfig)[];
}

// The figure is a pure spec in figures/; re-exported here for the callers that found it beside the table.
export { compareCurvesFigure } from "../figures/compare";

/** A comparison as text cells: the header (short names) and one row per run. */
export interface ComparisonRows {
  /** "run", the hyperparameters that differ (short names, e.g. lr), then the results columns. */
  header: string[];
  rows: string[][];
  /** How many leading columns (after "run") are hyperparameters; the rest are results. */
  hyperparameters: number;
}

/**
 * One row per run: the hyperparameters that differ between the runs (short names: lr, hidden, opt...; values as
 * the legend shows them, "-" for off), then the epochs trained, the best val_accuracy and its epoch, test accuracy
 * and training time.
 */
function comparisonRows(summaries: RunSummary[]): ComparisonRows {
  const changed = changedFields(summaries);
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : legendValue(v));
  const header = ["run", ...changed.map(shortName), "epochs", "best_val_acc", "best_epoch", "test_acc", "seconds"];
  const rows = summaries.map((s) => [
    s.name,
    ...changed.map((k) => cell(s.config[k])),
    String(s.history.epoch.length),
    // A run that trained no epoch here (an imported Keras model) has no best epoch.
    Number.isNaN(s.bestValAccuracy) ? "-" : String(round(s.bestValAccuracy)),
    Number.isNaN(s.bestValAccuracy) ? "-" : String(s.bestEpoch),
    s.testAccuracy === undefined ? "-" : String(round(s.testAccuracy)),
    s.seconds === undefined ? "-" : String(Math.round(s.seconds)),
  ]);
  return { header, rows, hyperparameters: changed.length };
}

/** The comparison as a DataFrame (comparisonRows' columns), e.g. to sort or filter in a notebook. */
export function comparisonTable(summaries: RunSummary[]): dfd.DataFrame {
  const { header, rows } = comparisonRows(summaries);
  const columns = Object.fromEntries(header.map((name, j) => [name, rows.map((r) => r[j]!)]));
  // danfojs cuts every cell at 16 characters; size each column to its longest value instead.
  const widths = Object.fromEntries(
    header.map((name, j) => [j + 1, { width: Math.min(MAX_CELL, Math.max(name.length, ...rows.map((r) => r[j]!.length))) }]),
  );
  return new (danfo().DataFrame)(columns, {
    config: {
      tableMaxRow: Math.max(summaries.length, 10),
      tableMaxColInConsole: 40,
      tableDisplayConfig: { columns: { 0: { width: 3 }, ...widths } },
    },
  });
}

// A cell wider than this wraps (a learning-rate schedule: "exponential(decaySteps=17200, " then "decayRate=0.1)").
const MAX_CELL = 30;

/**
 * The comparison as text at most `width` characters wide (a terminal's, or 100 for a report): one table when it
 * fits; otherwise the hyperparameters that differ, split into as many tables as needed (each starting with the run
 * name), then the results. Long values wrap inside their cell.
 */
export function formatComparison(summaries: RunSummary[], width = 100): string {
  const { header, rows, hyperparameters } = comparisonRows(summaries);
  const widthOf = (j: number) => Math.min(MAX_CELL, Math.max(header[j]!.length, ...rows.map((r) => r[j]!.length)));
  // The table package draws "│ cell │": each column costs its width plus 3, and the frame 1 more.
  const drawnWidth = (cols: number[]) => cols.reduce((sum, j) => sum + widthOf(j) + 3, 1);
  const draw = (cols: number[]) =>
    tables()
      .table([cols.map((j) => header[j]!), ...rows.map((r) => cols.map((j) => r[j]!))], {
        columns: cols.map((j) => ({ width: widthOf(j), wrapWord: true })),
      })
      .trimEnd();
  const all = header.map((_, j) => j);
  if (drawnWidth(all) <= width) return draw(all);
  const results = all.slice(1 + hyperparameters);
  const parts: number[][] = [];
  let part: number[] = [0];
  for (let j = 1; j <= hyperparameters; j++) {
    if (part.length > 1 && drawnWidth([...part, j]) > width) {
      parts.push(part);
      part = [0];
    }
    part.push(j);
  }
  if (part.length > 1) parts.push(part);
  const captions = parts.map((_, i) => `hyperparameters that differ${parts.length > 1 ? ` (${i + 1}/${parts.length})` : ""}:`);
  return [...parts.map((cols, i) => `${captions[i]}\n${draw(cols)}`), `results:\n${draw([0, ...results])}`].join("\n");
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
