import type { StudyPlotData, StudyPlotTrial } from "../../figures/study-style";
import { bestOf, type Objective } from "../core/objective";
import type { SearchSpace } from "../core/space";
import type { TrialRecord } from "../core/study";
import { domainValue, spaceDomains } from "./domain";
import { paramImportances } from "./importance";

const STATES: Record<TrialRecord["status"], StudyPlotTrial["state"]> = {
  completed: "complete",
  pruned: "pruned",
  failed: "failed",
  running: "running",
  pending: "pending",
};

/**
 * A study's trials as the study figures draw them: searched parameters only (fixed ones say nothing), each trial's
 * value its best epoch's objective, as the results table ranks it.
 */
export function studyPlotData(trials: readonly TrialRecord[], space: SearchSpace, objective: Objective): StudyPlotData {
  const params = spaceDomains(space);
  return {
    objective: { name: objective.name, direction: objective.direction },
    params,
    trials: trials.map((t, number) => ({
      number,
      id: t.id,
      state: STATES[t.status],
      params: Object.fromEntries(Object.keys(params).flatMap((n) => (t.params[n] === undefined ? [] : [[n, domainValue(t.params[n]!)]]))),
      value: bestOf(t.history, objective.direction)?.value ?? null,
      intermediate: t.history.slice(),
    })),
  };
}

/**
 * The parameters' importances (PED-ANOVA, Optuna's default evaluator; see importance.ts), from the completed trials
 * as Optuna counts them: pruned and failed trials are left out. Most important first, summing to 1.
 */
export function studyImportances(data: StudyPlotData): Record<string, number> {
  const done = data.trials.filter((t) => t.state === "complete" && t.value !== null);
  return paramImportances(
    done.map((t) => ({ params: t.params, value: t.value! })),
    data.params,
    data.objective.direction,
  );
}
