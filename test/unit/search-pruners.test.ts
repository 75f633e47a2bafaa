import { describe, expect, it } from "vitest";
import { pruningView, suggestionView } from "../../lib/search/core/barrier";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import { applyAction, finishTrial, recordEpoch, type StudyState, type TrialRecord } from "../../lib/search/core/study";
import { AshaPruner, promotable, SuccessiveHalving } from "../../lib/search/pruners/asha";
import { seededSource } from "../../lib/search/samplers/random";
import { prunerSpec, TunerSpec, tunerFor } from "../../lib/search/tuner";

const SPACE = parseSearchSpace(
  { learningRate: { type: "float", min: 1e-4, max: 1, log: true }, batchSize: { type: "int", min: 16, max: 256, step: 2, log: true } },
  ["learningRate", "batchSize"],
);
const trial = (id: string, history: number[], status: TrialRecord["status"] = "completed", epochsTarget = 9): TrialRecord => ({
  id,
  params: {},
  status,
  bracket: 0,
  round: 0,
  epochsTarget,
  history,
});
const study = (trials: TrialRecord[], objective = "val_accuracy"): StudyState => ({
  space: SPACE,
  objective: objectiveFor(objective),
  trials,
});

describe("ASHA (Optuna's SuccessiveHalvingPruner)", () => {
  const asha = new AshaPruner(SuccessiveHalving.parse({ kind: "asha" }));

  it("puts its rungs at 1, 3, 9, 27 epochs with the defaults (min resource 1, reduction factor 3)", () => {
    expect([0, 1, 2, 3].map((r) => asha.rungEpoch(r))).toEqual([1, 3, 9, 27]);
    const later = new AshaPruner(SuccessiveHalving.parse({ kind: "asha", minResource: 2, minEarlyStoppingRate: 1 }));
    expect([0, 1].map((r) => later.rungEpoch(r))).toEqual([6, 18]);
  });

  it("promotes the top 1/factor of the values at a rung, and only the best while fewer than factor competed", () => {
    expect(promotable(0.5, [0.5], 3, "max")).toBe(true);
    expect(promotable(0.4, [0.5, 0.4], 3, "max")).toBe(false);
    // 6 values: the top 2 go on.
    const six = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    expect(six.map((v) => promotable(v, six, 3, "max"))).toEqual([false, false, false, false, true, true]);
    expect(six.map((v) => promotable(v, six, 3, "min"))).toEqual([true, true, false, false, false, false]);
  });

  it("judges a trial only at a rung's epoch, by its value there against every trial that reached that rung", () => {
    const others = [trial("a", [0.8, 0.8, 0.8]), trial("b", [0.7, 0.7, 0.7], "pruned"), trial("c", [0.6], "running")];
    // Epoch 1: 0.65 against 0.8, 0.7, 0.6 and itself (4 values: only the best goes on).
    expect(asha.shouldPrune(study([...others, trial("x", [0.65], "running")]), "x")).toBe(true);
    expect(asha.shouldPrune(study([...others, trial("x", [0.85], "running")]), "x")).toBe(false);
    // Epoch 2 is no rung: nothing is decided whatever the value.
    expect(asha.shouldPrune(study([...others, trial("x", [0.85, 0.1], "running")]), "x")).toBe(false);
    // Epoch 3 (rung 1): against a and b only, which reached it; 0.75 is not the best of three.
    expect(asha.shouldPrune(study([...others, trial("x", [0.85, 0.1, 0.75], "running")]), "x")).toBe(true);
    // A NaN at a rung is pruned; the trial's own last epoch never is.
    expect(asha.shouldPrune(study([trial("x", [Number.NaN], "running")]), "x")).toBe(true);
    expect(asha.shouldPrune(study([...others, trial("x", [0.1, 0.1, 0.1], "running", 3)]), "x")).toBe(false);
  });

  it("reads a loss objective as lower is better", () => {
    const s = study([trial("a", [0.3]), trial("b", [0.4]), trial("x", [0.35], "running")], "val_loss");
    expect(asha.shouldPrune(s, "x")).toBe(true);
    expect(asha.shouldPrune(study([trial("a", [0.3]), trial("x", [0.2], "running")], "val_loss"), "x")).toBe(false);
  });
});

describe("--pruner for every sampler", () => {
  it("builds median and ASHA specs with their defaults, none as no pruner, and Hyperband refuses one in a sentence", () => {
    expect(prunerSpec("random", "asha")).toEqual({ kind: "asha", minResource: 1, reductionFactor: 3, minEarlyStoppingRate: 0 });
    expect(prunerSpec("grid", "median")).toEqual({ kind: "median", minTrials: 3, warmupEpochs: 1 });
    expect(prunerSpec("random", "none")).toBeNull();
    expect(() => prunerSpec("hyperband", "median")).toThrow(
      /^--pruner median: Hyperband stops trials by its own rounds \(successive halving\) and takes no pruner; drop --pruner or use --tuner random$/,
    );
    expect(tunerFor(TunerSpec.parse({ kind: "grid", maxEpochs: 3, pruning: prunerSpec("grid", "asha") })).pruner.label).toBe(
      "asynchronous successive halving",
    );
  });
});

describe("the reproducible views (core/barrier.ts)", () => {
  it("suggests trial k from trials < k - lag once they ended, seeing the latest ones by their params only", () => {
    const trials = [trial("t0", [0.5]), trial("t1", [0.6], "running"), trial("t2", [0.7], "running")];
    expect(suggestionView(study(trials), 1)).toBeUndefined(); // t1 must end first
    const view = suggestionView(study(trials), 2)!;
    expect(view.trials.map((t) => [t.status, t.history])).toEqual([
      ["completed", [0.5]],
      ["running", []],
      ["running", []],
    ]);
  });

  it("judges trial k at epoch e against earlier trials cut to e epochs, once each reached e or ended", () => {
    const trials = [
      trial("t0", [0.5, 0.6, 0.7], "running"),
      trial("t1", [0.4], "pruned"),
      trial("t2", [0.3], "running"),
      trial("t3", [0.9, 0.9]),
    ];
    expect(pruningView(study(trials), "t2")!.trials.map((t) => [t.id, t.status, t.history])).toEqual([
      ["t0", "completed", [0.5]],
      ["t1", "completed", [0.4]],
      ["t2", "running", [0.3]],
    ]);
    // At epoch 2, t1 (pruned at 1) counts as ended; t2 (running, 1 epoch) is still to come.
    expect(pruningView(study([...trials.slice(0, 3), trial("t3", [0.9, 0.9], "running")]), "t3")).toBeUndefined();
  });
});

/**
 * A study run by `workers` workers in simulated time: each epoch of each trial takes a random time (seeded by the
 * worker count, so 1, 2 and 3 workers finish in different orders), the objective is a function of the params and
 * the epoch. A worker whose sampler or pruner must wait tries again after the next event. Returns the trial table.
 */
function simulate(spec: object, workers: number): string[] {
  const tuner = tunerFor(TunerSpec.parse(spec));
  let s: StudyState = study([]);
  const u = seededSource(1000 + workers);
  type Slot = { at: number; trial?: string; judging?: boolean; done?: boolean };
  const slots: Slot[] = Array.from({ length: workers }, () => ({ at: 0 }));
  const value = (t: TrialRecord, e: number): number => {
    const lr = t.params.learningRate as number;
    return 0.9 - 0.05 * Math.abs(Math.log10(lr) + 2) + 0.01 * e - 0.0001 * (t.params.batchSize as number);
  };
  const judge = (slot: Slot, id: string): void => {
    if (tuner.pruner.ready && !tuner.pruner.ready(s, id)) {
      slot.judging = true;
      return;
    }
    slot.judging = false;
    const t = s.trials.find((x) => x.id === id)!;
    if (tuner.pruner.shouldPrune(s, id)) s = finishTrial(s, id, "pruned");
    else if (t.history.length >= t.epochsTarget) s = finishTrial(s, id, "completed");
    else {
      slot.at += 0.5 + u() * 2;
      return;
    }
    slot.trial = undefined;
  };
  for (let step = 0; step < 100_000 && slots.some((x) => !x.done); step++) {
    const slot = slots.filter((x) => !x.done).sort((a, b) => a.at - b.at)[0]!;
    // A waiting worker looks again just after the next worker that trains finishes an epoch.
    const blocked = () => {
      const busy = slots.filter((x) => x !== slot && x.trial && !x.judging).map((x) => x.at);
      slot.at = (busy.length > 0 ? Math.max(slot.at, Math.min(...busy)) : slot.at + 1) + 1e-6;
    };
    if (slot.trial && slot.judging) {
      judge(slot, slot.trial);
      if (slot.judging) blocked();
    } else if (slot.trial) {
      const t = s.trials.find((x) => x.id === slot.trial)!;
      s = recordEpoch(s, t.id, value(t, t.history.length + 1));
      judge(slot, t.id);
    } else {
      const a = tuner.sampler.nextAction(s);
      if (a.kind === "done") slot.done = true;
      else if (a.kind === "wait") blocked();
      else if (a.kind === "start") {
        s = applyAction(s, a);
        slot.trial = a.trialId;
        slot.at += 0.5 + u() * 2;
      }
    }
  }
  expect(slots.every((x) => x.done)).toBe(true);
  return s.trials.map((t) => `${t.id} ${JSON.stringify(t.params)} ${t.status} ${t.history.length}`);
}

describe("a reproducible study: the same trial table with 1, 2 or 3 workers", () => {
  const base = { kind: "random", maxTrials: 16, maxEpochs: 9, seed: 3 };
  for (const pruner of ["median", "asha"] as const) {
    it(`${pruner}: same params per trial and same pruning decisions with the barrier`, () => {
      const spec = { ...base, pruning: prunerSpec("random", pruner), barrier: 4 };
      const one = simulate(spec, 1);
      expect(one.some((row) => row.includes("pruned"))).toBe(true);
      expect(simulate(spec, 2)).toEqual(one);
      expect(simulate(spec, 3)).toEqual(one);
    });
  }

  it("without the barrier, the order workers finish in changes the pruning decisions (what the barrier fixes)", () => {
    const spec = { ...base, pruning: prunerSpec("random", "median") };
    const tables = [1, 2, 3].map((w) => simulate(spec, w).join("\n"));
    expect(new Set(tables).size).toBeGreaterThan(1);
  });
});
