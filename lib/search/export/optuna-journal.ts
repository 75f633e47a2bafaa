// A study as an Optuna 5 journal file (JournalStorage(JournalFileBackend(path))): one JSON operation a line, as
// optuna/storages/journal/_storage.py writes and replays them. One CREATE_STUDY, then one CREATE_TRIAL per trial
// carrying the whole finished trial (the form Optuna's own create_new_trial(template_trial=...) writes when a study
// is copied), so Optuna replays every trial with its state, value, params, distributions and intermediate values.
import { bestOf, type Objective } from "../core/objective";
import type { SearchSpace } from "../core/space";
import type { TrialRecord } from "../core/study";
import { domainValue, type ParamDomain, spaceDomains } from "../analysis/domain";

/** optuna.storages.journal._storage.JournalOperation */
const CREATE_STUDY = 0;
const SET_STUDY_USER_ATTR = 2;
const CREATE_TRIAL = 4;
/** optuna.trial.TrialState and optuna.study.StudyDirection values. */
const STATE = { running: 0, completed: 1, pruned: 2, failed: 3, pending: 4 } as const;
const DIRECTION = { min: 1, max: 2 } as const;

/** Optuna's distribution_to_json: {"name": class name, "attributes": its __dict__}, as a JSON string. */
function optunaDistribution(d: ParamDomain): string {
  if (d.kind === "categorical") return JSON.stringify({ name: "CategoricalDistribution", attributes: { choices: d.choices } });
  if (d.kind === "float")
    return JSON.stringify({ name: "FloatDistribution", attributes: { low: d.low, high: d.high, log: d.log, step: null } });
  return JSON.stringify({ name: "IntDistribution", attributes: { low: d.low, high: d.high, log: d.log, step: d.step } });
}

/** A value as Optuna stores it (its internal representation): a number, or a choice's index. */
function internalValue(d: ParamDomain, v: TrialRecord["params"][string]): number {
  if (d.kind !== "categorical") return v as number;
  const i = d.choices.indexOf(domainValue(v));
  if (i < 0) throw new Error(`value ${JSON.stringify(v)} is not one of the choices ${JSON.stringify(d.choices)}`);
  return i;
}

/**
 * Python's json accepts NaN and Infinity (and Optuna writes them for a diverged epoch); JSON.stringify would turn
 * them into null, which Optuna would reject as an intermediate value.
 */
function pyJson(value: unknown): string {
  const marks = new Map<string, string>();
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v !== "number" || Number.isFinite(v)) return v;
    const mark = `\u0000${Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"}\u0000`;
    marks.set(JSON.stringify(mark), mark.slice(1, -1));
    return mark;
  });
  let out = text;
  for (const [quoted, literal] of marks) out = out.split(quoted).join(literal);
  return out;
}

/** The trial's Optuna value: a completed trial's best epoch (what this tool ranks by), a pruned one's last epoch (as Optuna's tell). */
function trialValue(t: TrialRecord, objective: Objective): number | null {
  if (t.status === "completed") return bestOf(t.history, objective.direction)?.value ?? null;
  if (t.status === "pruned") {
    const last = t.history.at(-1);
    return last !== undefined && Number.isFinite(last) ? last : null;
  }
  return null;
}

export interface JournalOptions {
  /** The time written as every trial's start and end: the study keeps no per-trial times. Default now. */
  now?: Date;
}

/** The journal's text for a study: Optuna's study_name is `name`, its trials are `trials` in start order. */
export function optunaJournal(
  name: string,
  space: SearchSpace,
  objective: Objective,
  trials: readonly TrialRecord[],
  opts: JournalOptions = {},
): string {
  const worker = "fashion-ann-export";
  const when = (opts.now ?? new Date()).toISOString().replace("Z", "000+00:00");
  const domains = spaceDomains(space);
  const lines: unknown[] = [
    { op_code: CREATE_STUDY, worker_id: worker, study_name: name, directions: [DIRECTION[objective.direction]] },
    { op_code: SET_STUDY_USER_ATTR, worker_id: worker, study_id: 0, user_attr: { objective: objective.name } },
  ];
  for (const t of trials) {
    let value = trialValue(t, objective);
    // A trial that completed without a finite objective is what Optuna calls failed (it refuses NaN values).
    const state = t.status === "completed" && value === null ? STATE.failed : STATE[t.status];
    if (state === STATE.failed) value = null;
    const names = Object.keys(domains).filter((n) => t.params[n] !== undefined);
    const best = bestOf(t.history, objective.direction);
    lines.push({
      op_code: CREATE_TRIAL,
      worker_id: worker,
      study_id: 0,
      datetime_start: state === STATE.pending ? null : when,
      ...(state !== STATE.pending && state !== STATE.running && { datetime_complete: when }),
      state,
      value,
      values: null,
      distributions: Object.fromEntries(names.map((n) => [n, optunaDistribution(domains[n]!)])),
      params: Object.fromEntries(names.map((n) => [n, internalValue(domains[n]!, t.params[n]!)])),
      user_attrs: { fashion_ann_id: t.id, fashion_ann_status: t.status, epochs_run: t.history.length, best_epoch: best?.epoch ?? null },
      system_attrs: {},
      intermediate_values: Object.fromEntries(t.history.map((v, e) => [String(e + 1), v])),
    });
  }
  return `${lines.map(pyJson).join("\n")}\n`;
}
