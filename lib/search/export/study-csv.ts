// The study as one CSV for pandas (pd.read_csv), laid out like Optuna's study.trials_dataframe(): one row per trial
// in start order, one params_<name> column per searched hyperparameter.
import { bestOf, type Objective } from "../core/objective";
import type { SearchSpace } from "../core/space";
import type { TrialRecord } from "../core/study";
import { domainValue, spaceDomains } from "../analysis/domain";

/** Optuna's state names, which trials_dataframe() prints. */
const STATE_NAMES = { completed: "COMPLETE", pruned: "PRUNED", failed: "FAIL", running: "RUNNING", pending: "WAITING" } as const;

const cell = (v: string | number | boolean | null | undefined): string => {
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Columns: number, trial (the study's id), state, value (the best epoch's objective), best_epoch, epochs_run, then
 * params_<name> per searched parameter (a list-valued choice as its JSON text). Empty cells for missing values.
 */
export function studyCsv(space: SearchSpace, objective: Objective, trials: readonly TrialRecord[]): string {
  const names = Object.keys(spaceDomains(space));
  const header = ["number", "trial", "state", "value", "best_epoch", "epochs_run", ...names.map((n) => `params_${n}`)];
  const rows = trials.map((t, number) => {
    const best = bestOf(t.history, objective.direction);
    const params = names.map((n) => (t.params[n] === undefined ? null : domainValue(t.params[n]!)));
    // A completed trial without a finite objective is what Optuna calls failed, as in the journal.
    const state = t.status === "completed" && !best ? "FAIL" : STATE_NAMES[t.status];
    return [number, t.id, state, best?.value, best?.epoch, t.history.length, ...params].map(cell).join(",");
  });
  return `${[header.join(","), ...rows].join("\n")}\n`;
}
