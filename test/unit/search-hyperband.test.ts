import { describe, expect, it } from "vitest";
import { planHyperband } from "../../lib/search/samplers/hyperband";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace, type Params } from "../../lib/search/core/space";
import { type Action, applyAction, finishTrial, recordEpoch, type StudyState } from "../../lib/search/core/study";
import { type Tuner, TunerSpec, tunerFor } from "../../lib/search/tuner";

const SPACE = parseSearchSpace(
  { learningRate: { type: "float", min: 0.0001, max: 0.03, log: true }, nNeurons: { type: "int", min: 16, max: 256, log: true } },
  ["learningRate", "hiddenUnits"],
  { nHidden: 2, nNeurons: 100 },
);

const shape = (maxEpochs: number, factor: number) =>
  planHyperband({ maxEpochs, factor, seed: 0 }).brackets.map((b) => [b.bracketNum, b.rounds.map((r) => [r.size, r.epochs])]);

describe("planHyperband: Keras Tuner's numbers", () => {
  // By hand from keras_tuner/tuners/hyperband.py, max_epochs 10, factor 3:
  //   brackets: 10 -> 3.33 -> 1.11 -> 0.37, three divisions while >= 1, so bracket_num 2, 1, 0
  //   bracket0_end_size = ceil(1 + log3(10)) = ceil(3.096) = 4; size(b, r) = ceil(4 / (b + 1) * 3^(b - r))
  //   epochs(b, r) = ceil(10 / 3^(b - r))
  //   b=2: sizes ceil(12) 12, ceil(4) 4, ceil(1.33) 2; epochs ceil(1.11) 2, ceil(3.33) 4, 10
  //   b=1: sizes 6, 2; epochs 4, 10.   b=0: size 4; epochs 10.
  //   models 12 + 6 + 4 = 22; epochs (continuing) 12*2 + 4*(4-2) + 2*(10-4) + 6*4 + 2*(10-4) + 4*10 = 44 + 36 + 40 = 120
  it("max_epochs 10, factor 3: 12x2 4x4 2x10 | 6x4 2x10 | 4x10, 22 models, 120 epochs", () => {
    expect(shape(10, 3)).toEqual([
      [
        2,
        [
          [12, 2],
          [4, 4],
          [2, 10],
        ],
      ],
      [
        1,
        [
          [6, 4],
          [2, 10],
        ],
      ],
      [0, [[4, 10]]],
    ]);
    expect(planHyperband({ maxEpochs: 10, seed: 0 })).toMatchObject({ factor: 3, models: 22, epochs: 120 });
  });

  // max_epochs 27, factor 3: 27 -> 9 -> 3 -> 1 -> 0.33, four brackets; bracket0_end_size = ceil(1 + 3) = 4
  //   b=3: sizes 27, 9, 3, 1; epochs 1, 3, 9, 27      b=2: sizes ceil(4/3*9)=12, 4, 2; epochs 3, 9, 27
  //   b=1: sizes 6, 2; epochs 9, 27                   b=0: size 4; epochs 27
  //   models 27 + 12 + 6 + 4 = 49; epochs 27 + 9*2 + 3*6 + 1*18 + 12*3 + 4*6 + 2*18 + 6*9 + 2*18 + 4*27 = 81 + 96 + 90 + 108 = 375
  it("max_epochs 27, factor 3: 49 models, 375 epochs", () => {
    expect(shape(27, 3)).toEqual([
      [
        3,
        [
          [27, 1],
          [9, 3],
          [3, 9],
          [1, 27],
        ],
      ],
      [
        2,
        [
          [12, 3],
          [4, 9],
          [2, 27],
        ],
      ],
      [
        1,
        [
          [6, 9],
          [2, 27],
        ],
      ],
      [0, [[4, 27]]],
    ]);
    expect(planHyperband({ maxEpochs: 27, factor: 3, seed: 0 })).toMatchObject({ models: 49, epochs: 375 });
  });

  it("matches Keras Tuner's own test for max_epochs 8, factor 2 (test_hyperband_oracle_bracket_configs)", () => {
    const b3 = planHyperband({ maxEpochs: 8, factor: 2, seed: 0 }).brackets;
    expect(b3).toHaveLength(4);
    expect(b3[0]!.rounds[0]).toEqual({ size: 8, epochs: 1 });
    expect(b3[0]!.rounds[3]).toEqual({ size: 1, epochs: 8 });
    expect(b3[3]!.rounds).toEqual([{ size: 4, epochs: 8 }]);
  });

  it("sizes max_epochs 81 as Python does: ceil(1 + log3(81)) is 5 (a naive Math.log ratio gives 6)", () => {
    expect(planHyperband({ maxEpochs: 81, seed: 0 }).brackets[0]!.rounds.map((r) => r.size)).toEqual([81, 27, 9, 3, 1]);
  });

  it("repeats the brackets for each hyperband iteration", () => {
    const plan = planHyperband({ maxEpochs: 10, hyperbandIterations: 2, seed: 0 });
    expect(plan.brackets.map((b) => [b.index, b.iteration, b.bracketNum])).toEqual([
      [0, 0, 2],
      [1, 0, 1],
      [2, 0, 0],
      [3, 1, 2],
      [4, 1, 1],
      [5, 1, 0],
    ]);
    expect(plan.epochs).toBe(240);
  });

  it("refuses a factor below 2", () => {
    expect(() => planHyperband({ maxEpochs: 10, factor: 1, seed: 0 })).toThrow(/^hyperband factor must be a whole number >= 2, got 1$/);
  });
});

/** A study with its sampler and pruner, as SqlStudyStore keeps them: chosen once from the spec. */
type Tuned = StudyState & { tuner: Tuner };
const nextAction = (s: Tuned): Action => s.tuner.sampler.nextAction(s);

const study = (tuner: object): Tuned => ({
  tuner: tunerFor(TunerSpec.parse(tuner)),
  space: SPACE,
  objective: objectiveFor("val_accuracy"),
  trials: [],
});

// A fake val_accuracy: a quality per params (best near lr 0.003) that training approaches epoch by epoch.
const quality = (p: Params): number =>
  0.9 - 0.05 * Math.abs(Math.log10(p.learningRate as number) - Math.log10(0.003)) + (p.nNeurons as number) / 1e5;
const accuracy = (p: Params, epoch: number): number => quality(p) * (1 - 0.5 ** epoch);

interface Run {
  study: Tuned;
  actions: Action[];
  /** "trial-003@1": times that trial finished that round. */
  completions: Map<string, number>;
  epochs: number;
}

/** Drives nextAction to done with `workers` simulated workers; a job takes as long as its epochs. */
function simulate(start: Tuned, workers: number, fails: (id: string) => boolean = () => false): Run {
  let s = start;
  const run: Run = { study: s, actions: [], completions: new Map(), epochs: 0 };
  const jobs: { until: number; seq: number; action: Action & { kind: "start" | "continue" } }[] = [];
  let clock = 0;
  for (let step = 0; step < 10_000; step++) {
    while (jobs.length < workers) {
      const a = nextAction(s);
      if (a.kind === "wait" || a.kind === "done") break;
      s = applyAction(s, a);
      run.actions.push(a);
      const epochs = a.kind === "start" ? a.epochs : a.toEpoch - a.fromEpoch;
      jobs.push({ until: clock + epochs, seq: step, action: a });
    }
    if (jobs.length === 0) {
      expect(nextAction(s)).toEqual({ kind: "done" });
      return { ...run, study: s };
    }
    jobs.sort((x, y) => x.until - y.until || x.seq - y.seq);
    const { until, action } = jobs.shift()!;
    clock = until;
    const trial = s.trials.find((t) => t.id === action.trialId)!;
    if (fails(trial.id)) {
      s = finishTrial(s, trial.id, "failed");
      continue;
    }
    for (let e = trial.history.length + 1; e <= trial.epochsTarget; e++) s = recordEpoch(s, trial.id, accuracy(trial.params, e));
    run.epochs += trial.epochsTarget - trial.history.length;
    s = finishTrial(s, trial.id, "completed");
    const key = `${trial.id}@${trial.round}`;
    run.completions.set(key, (run.completions.get(key) ?? 0) + 1);
  }
  throw new Error("the study did not finish in 10,000 steps");
}

/** Every bracket's round r holds exactly the top size_r of round r - 1 by the objective after round r - 1's epochs. */
function expectTopPromoted(run: Run, maxEpochs: number): void {
  for (const b of planHyperband({ maxEpochs, seed: 0 }).brackets) {
    const members = run.study.trials.filter((t) => t.bracket === b.index);
    for (let r = 1; r < b.rounds.length; r++) {
      const before = members.filter((t) => t.round >= r - 1);
      const at = (t: (typeof before)[number]) => t.history[b.rounds[r - 1]!.epochs - 1]!;
      const top = before
        .slice()
        .sort((x, y) => at(y) - at(x))
        .slice(0, b.rounds[r]!.size);
      expect(
        members
          .filter((t) => t.round >= r)
          .map((t) => t.id)
          .sort(),
      ).toEqual(top.map((t) => t.id).sort());
    }
  }
}

describe("a simulated Hyperband study", () => {
  const hb = (maxEpochs: number) => study({ kind: "hyperband", maxEpochs, seed: 42 });

  it("max_epochs 10, one worker: 22 trials, each round completed once, 120 epochs, the top third promoted", () => {
    const run = simulate(hb(10), 1);
    expect(run.study.trials).toHaveLength(22);
    expect(run.actions.filter((a) => a.kind === "start")).toHaveLength(22);
    expect(run.actions.filter((a) => a.kind === "continue")).toHaveLength(4 + 2 + 2);
    expect([...run.completions.values()].every((n) => n === 1)).toBe(true);
    expect(run.completions.size).toBe(22 + 8);
    expect(run.study.trials.every((t) => t.status === "completed" && t.history.length === t.epochsTarget)).toBe(true);
    expect(run.epochs).toBe(120);
    expectTopPromoted(run, 10);
  });

  it("continues a promoted trial from its previous round's epochs instead of retraining", () => {
    const run = simulate(hb(10), 1);
    const reached = new Map<string, number>();
    for (const a of run.actions) {
      if (a.kind === "start") reached.set(a.trialId, a.epochs);
      if (a.kind !== "continue") continue;
      expect(a.fromEpoch).toBe(reached.get(a.trialId));
      reached.set(a.trialId, a.toEpoch);
    }
    const continued = run.actions.flatMap((a) => (a.kind === "continue" ? [[a.fromEpoch, a.toEpoch]] : []));
    expect(continued).toEqual([
      [2, 4],
      [2, 4],
      [2, 4],
      [2, 4],
      [4, 10],
      [4, 10],
      [4, 10],
      [4, 10],
    ]);
  });

  it("max_epochs 27 with three workers: 49 trials, 375 epochs, the same promotions rule", () => {
    const run = simulate(hb(27), 3);
    expect(run.study.trials).toHaveLength(49);
    expect(run.epochs).toBe(375);
    expect([...run.completions.values()].every((n) => n === 1)).toBe(true);
    expectTopPromoted(run, 27);
  });

  it("decides the same from a JSON copy of the study, as a second worker reading the file would", () => {
    let s = hb(10);
    for (let i = 0; i < 13; i++) {
      const a = nextAction(s);
      expect(nextAction({ ...(JSON.parse(JSON.stringify({ ...s, tuner: undefined })) as StudyState), tuner: s.tuner })).toEqual(a);
      s = applyAction(s, a);
      if (a.kind === "start")
        s = finishTrial(recordEpoch(recordEpoch(s, a.trialId, 0.1 * i), a.trialId, 0.1 * i + 0.01), a.trialId, "completed");
    }
  });

  it("finishes when most of a bracket fails, promoting the survivor through every round", () => {
    const run = simulate(hb(10), 1, (id) => Number(id.slice(6)) < 11);
    const survivor = run.study.trials.find((t) => t.id === "trial-011")!;
    expect(survivor).toMatchObject({ bracket: 0, round: 2, status: "completed" });
    expect(survivor.history).toHaveLength(10);
    expect(run.study.trials.filter((t) => t.status === "failed")).toHaveLength(11);
    expect(run.study.trials).toHaveLength(22);
  });

  // max_epochs 9, factor 3: bracket 0 is 9x1 3x3 1x9. Keras promotes from round 0 once candidates > 9 - 3 = 6.
  it("promotes before a round ends only when the best finished trial is sure to be in the top third", () => {
    let s = study({ kind: "hyperband", maxEpochs: 9, seed: 3 });
    for (let i = 0; i < 9; i++) s = applyAction(s, nextAction(s));
    const complete = (i: number, value: number) => {
      s = finishTrial(recordEpoch(s, `trial-00${i}`, value), `trial-00${i}`, "completed");
    };
    [0.5, 0.7, 0.6, 0.4, 0.3, 0.2].forEach((v, i) => complete(i, v));
    // Six done, three running: all three could still beat trial-001, so bracket 0 waits and bracket 1 opens.
    expect(nextAction(s)).toMatchObject({ kind: "start", trialId: "trial-009", bracket: 1, round: 0 });
    complete(6, 0.1);
    // Seven done, two running: trial-001 (0.7) is at worst third, so it goes on from epoch 1 to 3.
    expect(nextAction(s)).toEqual({ kind: "continue", trialId: "trial-001", fromEpoch: 1, toEpoch: 3, round: 1 });
  });

  it("waits for the last trial of a round before filling a round of one", () => {
    let s = study({ kind: "hyperband", maxEpochs: 9, hyperbandIterations: 1, seed: 3 });
    const finish = (id: string, v: number) => {
      const t = s.trials.find((x) => x.id === id)!;
      while (s.trials.find((x) => x.id === id)!.history.length < t.epochsTarget) s = recordEpoch(s, id, v);
      s = finishTrial(s, id, "completed");
    };
    for (let i = 0; i < 9; i++) s = applyAction(s, nextAction(s));
    for (let i = 0; i < 9; i++) finish(`trial-00${i}`, i / 10);
    const promoted = [0, 1, 2].map(() => {
      const a = nextAction(s);
      s = applyAction(s, a);
      return (a as { trialId: string }).trialId;
    });
    expect(promoted).toEqual(["trial-008", "trial-007", "trial-006"]);
    finish("trial-008", 0.9);
    finish("trial-007", 0.95);
    // trial-006 still runs and could beat 0.95: round 2 (one trial) must not be filled yet.
    expect(nextAction(s)).toMatchObject({ kind: "start", bracket: 1 });
    finish("trial-006", 0.99);
    expect(nextAction(s)).toEqual({ kind: "continue", trialId: "trial-006", fromEpoch: 3, toEpoch: 9, round: 2 });
  });

  // Keras Tuner's test_hyperband_oracle_one_sweep_parallel: max_epochs 4, factor 2 (brackets 4x1 2x2 1x4 | 3x2 2x4 | 3x4).
  it("runs Keras Tuner's parallel sweep: 10 starts, wait, 4 continues, wait, 1 continue, wait, done", () => {
    let s = study({ kind: "hyperband", maxEpochs: 4, factor: 2, seed: 1 });
    const take = (n: number, kind: Action["kind"]) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const a = nextAction(s);
        expect(a.kind).toBe(kind);
        s = applyAction(s, a);
        if (a.kind === "start" || a.kind === "continue") ids.push(a.trialId);
      }
      expect(nextAction(s).kind).toBe(ids.length ? "wait" : "done");
      return ids;
    };
    const finish = (ids: string[]) => {
      for (const id of ids) {
        const t = s.trials.find((x) => x.id === id)!;
        while (s.trials.find((x) => x.id === id)!.history.length < t.epochsTarget) s = recordEpoch(s, id, 1);
        s = finishTrial(s, id, "completed");
      }
    };
    const round0 = take(10, "start");
    expect(s.trials.map((t) => t.bracket)).toEqual([0, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
    finish(round0);
    finish(take(4, "continue"));
    finish(take(1, "continue"));
    take(0, "done");
  });
});
