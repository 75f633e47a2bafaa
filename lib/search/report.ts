import type * as dfd from "danfojs-node";
import { type ExperimentConfig, resolveConfig } from "../config";
import type { Figure } from "../figures/figure";
import { writeFileAtomic } from "../io/atomic";
import { lazyRequire } from "../io/lazy";
import { compareCurvesFigure, type RunSummary } from "../runs/compare";
import { bestOf, type Objective } from "./core/objective";
import { type ResultRow, resultRows, tableRecords } from "./core/results";
import { toOverrides } from "./core/space";
import type { StoredTrial } from "./storage";

type Cell = string | number | boolean | null;

// danfojs loads with the first table, not with the library.
const danfo = lazyRequire<typeof dfd>("danfojs-node");

/** The results table, best first, as a DataFrame (printed at the end of a search, shown in notebook 10). */
export function trialsDataFrame(trials: readonly StoredTrial[], objective: Objective): dfd.DataFrame {
  const records = tableRecords(resultRows(trials, objective), objective).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "number" && !Number.isInteger(v) ? round(v) : (v ?? "-")])),
  );
  const columns = Object.keys(records[0] ?? { trial: "" });
  return new (danfo().DataFrame)(records, {
    columns,
    config: {
      tableMaxRow: Math.max(records.length, 10),
      tableMaxColInConsole: 30,
      tableDisplayConfig: {
        columns: Object.fromEntries(
          columns.map((c, i) => [i + 1, { width: Math.min(40, Math.max(c.length, ...records.map((r) => String(r[c]).length))) }]),
        ),
      },
    },
  });
}

const round = (x: number): number => Number(x.toPrecision(6));

const csvCell = (v: Cell): string => {
  const s = v === null ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** trials.csv: one row per trial, best first (id, status, each hyperparameter, epochs run, best objective). */
function trialsCsv(rows: readonly ResultRow[], objective: Objective): string {
  const records = tableRecords(rows, objective);
  const columns = Object.keys(records[0] ?? { trial: "", status: "", "epochs run": "", [objective.name]: "" });
  return [columns.join(","), ...records.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(","))].join("\n") + "\n";
}

export function writeTrialsCsv(file: string, trials: readonly StoredTrial[], objective: Objective): void {
  writeFileAtomic(file, trialsCsv(resultRows(trials, objective), objective));
}

/** A trial's config: the study's fixed part with the trial's params on top. */
export function trialConfig(fixed: Record<string, unknown>, trial: Pick<StoredTrial, "params">): ExperimentConfig {
  return resolveConfig({ ...fixed, ...toOverrides(trial.params) });
}

/**
 * The trials' validation curves on one plot, from the per-epoch metrics the study stores (so it works on any
 * machine, whatever folder the trials ran in). The one place the search calls the compare figure.
 */
export function trialCurvesFigure(trials: readonly StoredTrial[], fixed: Record<string, unknown>): Figure {
  const summaries: RunSummary[] = trials
    .filter((t) => (t.metrics.val_accuracy?.length ?? 0) > 0)
    .map((t) => {
      const valAcc = t.metrics.val_accuracy!;
      const best = bestOf(valAcc, "max") ?? { value: valAcc[0]!, epoch: 1 };
      return {
        name: t.id,
        dir: t.id,
        config: trialConfig(fixed, t),
        history: {
          epoch: valAcc.map((_, i) => i),
          history: t.metrics,
          params: { epochs: t.epochsTarget, steps: 0, batchSize: 0, samples: 0 },
        },
        bestValAccuracy: best.value,
        bestEpoch: best.epoch,
      } as RunSummary;
    });
  return compareCurvesFigure(summaries, { named: true, title: "Validation curves by trial" });
}
