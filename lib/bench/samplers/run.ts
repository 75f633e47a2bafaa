import * as os from "node:os";
import { writeFileAtomic } from "../../io/atomic";
import { BenchError, machineEnvironment } from "../report";
import { SAMPLER_OBJECTIVES, type SamplerObjectiveName } from "./names";
import { BRANIN, HARTMANN6, type SamplerObjective, type SyntheticObjective } from "./objectives";
import { optunaSuggestionSeconds, optunaUnavailable, runOptunaTpe } from "./optuna";
import { type SamplerBenchReport, type SamplerRow, samplerRow } from "./report";
import { filledStudy, type OurSampler, runStudy, type StudyRun, suggestionSeconds } from "./simulate";

export interface SamplerBenchOptions {
  /** Studies per sampler and objective, seeded 0..seeds-1 (default 20). */
  seeds?: number;
  /** Trials per study (default 50). */
  trials?: number;
  /** Objectives, in order (default every one: Branin, Hartmann-6, the Fashion-MNIST MLP). */
  objectives?: readonly SamplerObjectiveName[];
  /** Dataset cache folder for the Fashion-MNIST objective (default the config's). */
  dataDir?: string;
  /** Also time one suggestion of ours at this many finished trials (default 1000; 0: skip; synthetic ones only). */
  historyForTiming?: number;
  /** Write the report as JSON here too. */
  json?: string;
  /** Progress lines (default: stderr). */
  log?: (s: string) => void;
}

const OURS: readonly OurSampler[] = ["tpe", "bayesian", "random"];

const rowOf = (objective: string, sampler: string, runs: StudyRun[], msAt1000: number | null): SamplerRow =>
  samplerRow(
    objective,
    sampler,
    runs.map((r) => r.bestSoFar.at(-1)!),
    runs.flatMap((r) => r.suggestSeconds),
    msAt1000,
  );

/** The objective a name stands for; the Fashion-MNIST one loads the dataset and the engine. */
async function objectiveOf(name: SamplerObjectiveName, dataDir?: string): Promise<SamplerObjective> {
  if (name === "branin") return BRANIN;
  if (name === "hartmann6") return HARTMANN6;
  const { fashionObjective } = await import("./fashion");
  return fashionObjective(dataDir);
}

const isSynthetic = (o: SamplerObjective): o is SyntheticObjective => "optimum" in o;

/**
 * Issue 21's sampler benchmark: our TPE, Bayesian and random samplers and Optuna's TPESampler on Branin,
 * Hartmann-6 and the Fashion-MNIST MLP on a subset, the same seeds and trial budget for each, best value after the
 * budget and time per suggestion. Throws BenchError when Optuna is missing (the comparison is the point).
 */
export async function runSamplerBench(o: SamplerBenchOptions = {}): Promise<SamplerBenchReport> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const missing = optunaUnavailable();
  if (missing) throw new BenchError(`bench --samplers compares with Optuna, but ${missing}`);
  const started = new Date();
  const loadBefore = os.loadavg();
  const trials = o.trials ?? 50;
  const seeds = Array.from({ length: o.seeds ?? 20 }, (_, i) => i);
  const history = o.historyForTiming ?? 1000;
  const rows: SamplerRow[] = [];
  const targetObjectives: string[] = [];
  for (const name of o.objectives ?? SAMPLER_OBJECTIVES) {
    const objective = await objectiveOf(name, o.dataDir);
    // A thousand trainings to time one suggestion would cost more than the whole benchmark: synthetic ones only.
    const filled = history > 0 && isSynthetic(objective) ? filledStudy(objective, history) : undefined;
    if (isSynthetic(objective)) targetObjectives.push(objective.name);
    for (const sampler of OURS) {
      log(`${objective.name}: ${sampler}, ${seeds.length} studies of ${trials} trials`);
      const runs: StudyRun[] = [];
      for (const seed of seeds) runs.push(await runStudy(sampler, objective, seed, trials));
      const at = filled && sampler !== "random" ? 1000 * suggestionSeconds(sampler, filled) : null;
      rows.push(rowOf(objective.name, sampler, runs, at));
    }
    log(`${objective.name}: optuna-tpe, ${seeds.length} studies of ${trials} trials`);
    const optunaAt =
      filled && isSynthetic(objective)
        ? 1000 *
          optunaSuggestionSeconds(
            objective,
            filled.trials.map((t) => t.params),
            filled.trials.map((t) => t.history[0]!),
          )
        : null;
    rows.push(rowOf(objective.name, "optuna-tpe", await runOptunaTpe(objective, seeds, trials), optunaAt));
  }
  const report: SamplerBenchReport = { trials, seeds, rows, targetObjectives, environment: machineEnvironment(started, loadBefore) };
  if (o.json) writeFileAtomic(o.json, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
