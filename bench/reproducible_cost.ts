/*
 * What a reproducible study (--search-seed: core/barrier.ts) costs in wall time, measured on simulated studies so the
 * scheduling cost is seen apart from this machine's load: 20 trials of up to 9 epochs, epoch times drawn at random
 * per trial (0.5x to 2.5x, so workers finish out of order), the objective a smooth function of the params. Each
 * setting runs with and without the barrier over 20 seeds; it prints the median makespan ratio and the share of
 * worker time spent waiting.
 *
 *   npx vite-node bench/reproducible_cost.ts [-- --seeds 20 --pruner asha]
 */
import { parseArgs } from "node:util";
import { objectiveFor } from "../lib/search/core/objective";
import { parseSearchSpace } from "../lib/search/core/space";
import { applyAction, finishTrial, recordEpoch, type StudyState, type TrialRecord } from "../lib/search/core/study";
import { seededSource } from "../lib/search/samplers/random";
import { type PrunerName, prunerSpec, REPRODUCIBLE_LAG, TunerSpec, tunerFor } from "../lib/search/tuner";

const SPACE = parseSearchSpace({ learningRate: { type: "float", min: 1e-4, max: 1, log: true } }, ["learningRate"]);

/** Simulated wall time until the study is done, and the worker time spent waiting (sampler or pruner). */
function simulate(spec: object, workers: number, seed: number): { makespan: number; waited: number } {
  const tuner = tunerFor(TunerSpec.parse(spec));
  let s: StudyState = { space: SPACE, objective: objectiveFor("val_accuracy"), trials: [] };
  const pace = (id: string) => 0.5 + 2 * seededSource(seed, Number(id.slice(6)))();
  const value = (t: TrialRecord, e: number) => 0.9 - 0.05 * Math.abs(Math.log10(t.params.learningRate as number) + 2) + 0.01 * e;
  type Slot = { at: number; trial?: string; judging?: boolean; done?: boolean };
  const slots: Slot[] = Array.from({ length: workers }, () => ({ at: 0 }));
  let waited = 0;
  const wait = (slot: Slot) => {
    const busy = slots.filter((x) => x !== slot && x.trial && !x.judging).map((x) => x.at);
    const next = (busy.length > 0 ? Math.max(slot.at, Math.min(...busy)) : slot.at + 1) + 1e-6;
    waited += next - slot.at;
    slot.at = next;
  };
  const judge = (slot: Slot, id: string) => {
    slot.judging = Boolean(tuner.pruner.ready && !tuner.pruner.ready(s, id));
    if (slot.judging) return wait(slot);
    const t = s.trials.find((x) => x.id === id)!;
    if (tuner.pruner.shouldPrune(s, id)) s = finishTrial(s, id, "pruned");
    else if (t.history.length >= t.epochsTarget) s = finishTrial(s, id, "completed");
    else return void (slot.at += pace(id));
    slot.trial = undefined;
  };
  while (slots.some((x) => !x.done)) {
    const slot = slots.filter((x) => !x.done).sort((a, b) => a.at - b.at)[0]!;
    if (slot.trial && slot.judging) judge(slot, slot.trial);
    else if (slot.trial) {
      const t = s.trials.find((x) => x.id === slot.trial)!;
      s = recordEpoch(s, t.id, value(t, t.history.length + 1));
      judge(slot, t.id);
    } else {
      const a = tuner.sampler.nextAction(s);
      if (a.kind === "done") slot.done = true;
      else if (a.kind === "wait") wait(slot);
      else if (a.kind === "start") {
        s = applyAction(s, a);
        slot.trial = a.trialId;
        slot.at += pace(a.trialId);
      }
    }
  }
  return { makespan: Math.max(...slots.map((x) => x.at)), waited };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

const { values } = parseArgs({ options: { seeds: { type: "string", default: "20" }, pruner: { type: "string", default: "asha" } } });
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
for (const workers of [1, 2, 3, 5]) {
  const runs = seeds.map((seed) => {
    const base = { kind: "random", maxTrials: 20, maxEpochs: 9, seed, pruning: prunerSpec("random", values.pruner as PrunerName) };
    const free = simulate(base, workers, seed);
    const barrier = simulate({ ...base, barrier: REPRODUCIBLE_LAG }, workers, seed);
    return { ratio: barrier.makespan / free.makespan, waitShare: barrier.waited / (barrier.makespan * workers) };
  });
  const ratio = median(runs.map((r) => r.ratio));
  const waitShare = median(runs.map((r) => r.waitShare));
  console.log(JSON.stringify({ pruner: values.pruner, workers, seeds: seeds.length, medianWallRatio: Number(ratio.toFixed(3)), medianWaitShare: Number(waitShare.toFixed(3)) }));
}
