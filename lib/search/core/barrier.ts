import type { StudyState, TrialRecord, TrialStatus } from "./study";

/*
 * Reproducible parallel studies. A study's decisions read the recorded trials; with several workers, what is recorded
 * when a decision is taken depends on which worker finished first (optuna/optuna#4412). Here the sampler and the
 * pruner are given a view of the study that is the same whatever the timing, and the decision waits until that view
 * is complete: the barrier is a property of the StudyState a sampler or pruner is given, so any sampler is covered.
 */

/** Statuses a trial never leaves in a random, grid or model-based study. */
const FINAL: readonly TrialStatus[] = ["completed", "pruned", "failed"];
const isFinal = (t: TrialRecord): boolean => FINAL.includes(t.status);

/**
 * What the sampler sees when it suggests trial k (k = trials so far): trials 0..k-1-lag as they ended, and the `lag`
 * latest trials with their params only (status running, no history), so the duplicate check and the trial count
 * stay whole. undefined while one of trials 0..k-1-lag has not ended: the suggestion must wait for it.
 */
export function suggestionView(study: StudyState, lag: number): StudyState | undefined {
  const seen = study.trials.length - lag;
  if (study.trials.slice(0, Math.max(0, seen)).some((t) => !isFinal(t))) return undefined;
  const trials = study.trials.map((t, i) => (i < seen ? t : { ...t, status: "running" as const, history: [] }));
  return { ...study, trials };
}

/**
 * What the pruner sees when it judges trial `id` at its last recorded epoch e: every earlier-started trial cut to
 * its first e epochs (status completed: it reached e) or as it ended (it stopped before e), and the trial itself;
 * later trials are left out. undefined while an earlier trial is still short of epoch e and running: the decision
 * must wait for it.
 */
export function pruningView(study: StudyState, id: string): StudyState | undefined {
  const k = study.trials.findIndex((t) => t.id === id);
  if (k < 0) throw new Error(`no trial "${id}" in the study`);
  const epoch = study.trials[k]!.history.length;
  const earlier = study.trials.slice(0, k);
  if (earlier.some((t) => t.history.length < epoch && !isFinal(t))) return undefined;
  const cut = earlier.map((t) =>
    t.history.length >= epoch ? { ...t, status: "completed" as const, history: t.history.slice(0, epoch) } : t,
  );
  return { ...study, trials: [...cut, study.trials[k]!] };
}
