import { describe, expect, it } from "vitest";
import { gridPoints } from "../../lib/search/samplers/grid";
import { bestOf, ObjectiveError, objectiveFor } from "../../lib/search/core/objective";
import { trialParams } from "../../lib/search/samplers/random";
import { bestTrial, rankTrials, resultRows, tableRecords } from "../../lib/search/core/results";
import { parseSearchSpace } from "../../lib/search/core/space";
import {
  type Action,
  applyAction,
  finishTrial,
  recordEpoch,
  releaseTrial,
  type StudyState,
  type TrialRecord,
} from "../../lib/search/core/study";
import { type Tuner, TunerSpec, tunerFor } from "../../lib/search/tuner";

const FIELDS = ["learningRate", "optimizer", "batchNorm", "hiddenUnits"];
const RANDOM_SPACE = parseSearchSpace(
  { learningRate: { type: "float", min: 0.0001, max: 0.03, log: true }, optimizer: { type: "choice", values: ["sgd", "adam"] } },
  FIELDS,
);
const GRID_SPACE = parseSearchSpace({ optimizer: { type: "choice", values: ["sgd", "adam"] }, batchNorm: { type: "bool" } }, FIELDS);

/** A study with its sampler and pruner, as SqlStudyStore keeps them: chosen once from the spec. */
type Tuned = StudyState & { tuner: Tuner };
const nextAction = (s: Tuned): Action => s.tuner.sampler.nextAction(s);
const shouldStop = (s: Tuned, id: string): boolean => s.tuner.pruner.shouldPrune(s, id);

const study = (tuner: object, space = RANDOM_SPACE, objective = "val_accuracy"): Tuned => ({
  tuner: tunerFor(TunerSpec.parse(tuner)),
  space,
  objective: objectiveFor(objective),
  trials: [],
});

/** One worker: train every action to its end, asking shouldStop after each epoch. Returns the study and its actions. */
function drive(s: Tuned, value: (t: TrialRecord, epoch: number) => number): { study: Tuned; actions: Action[] } {
  const actions: Action[] = [];
  for (let a = nextAction(s); a.kind !== "done"; a = nextAction(s)) {
    if (a.kind === "wait") throw new Error("one worker never waits");
    actions.push(a);
    s = applyAction(s, a);
    const id = a.trialId;
    const t = s.trials.find((x) => x.id === id)!;
    let status: "completed" | "pruned" = "completed";
    for (let e = t.history.length + 1; e <= t.epochsTarget; e++) {
      s = recordEpoch(s, t.id, value(t, e));
      if (shouldStop(s, t.id)) {
        status = "pruned";
        break;
      }
    }
    s = finishTrial(s, t.id, status);
  }
  return { study: s, actions };
}

const flat = (): number => 0.5;

describe("random search through nextAction", () => {
  it("starts maxTrials trials with trial i's seeded params, each for maxEpochs, then is done", () => {
    const { study: s, actions } = drive(study({ kind: "random", maxTrials: 5, maxEpochs: 3, seed: 42 }), flat);
    expect(actions.map((a) => a.kind === "start" && [a.trialId, a.epochs])).toEqual([0, 1, 2, 3, 4].map((i) => [`trial-00${i}`, 3]));
    expect(s.trials.map((t) => t.params)).toEqual([0, 1, 2, 3, 4].map((i) => trialParams(RANDOM_SPACE, 42, i)));
    expect(s.trials.every((t) => t.status === "completed" && t.history.length === 3)).toBe(true);
  });

  it("waits while trials run and nothing is left to start", () => {
    let s = study({ kind: "random", maxTrials: 1, maxEpochs: 3, seed: 42 });
    s = applyAction(s, nextAction(s));
    expect(nextAction(s)).toEqual({ kind: "wait" });
  });

  it("stops at a used-up discrete space instead of repeating params", () => {
    const { study: s } = drive(study({ kind: "random", maxTrials: 10, maxEpochs: 1, seed: 1 }, GRID_SPACE), flat);
    expect(s.trials).toHaveLength(4);
    expect(new Set(s.trials.map((t) => JSON.stringify(t.params))).size).toBe(4);
  });

  it("hands a released trial out again from its last epoch before anything new", () => {
    let s = study({ kind: "random", maxTrials: 3, maxEpochs: 5, seed: 42 });
    s = applyAction(s, nextAction(s));
    s = recordEpoch(recordEpoch(s, "trial-000", 0.3), "trial-000", 0.4);
    s = releaseTrial(s, "trial-000");
    expect(nextAction(s)).toEqual({ kind: "continue", trialId: "trial-000", fromEpoch: 2, toEpoch: 5, round: 0 });
  });
});

describe("grid search through nextAction", () => {
  it("runs every grid point in order", () => {
    const { study: s } = drive(study({ kind: "grid", maxEpochs: 2 }, GRID_SPACE), flat);
    expect(s.trials.map((t) => t.params)).toEqual(gridPoints(GRID_SPACE));
  });

  it("stops at maxTrials", () => {
    expect(drive(study({ kind: "grid", maxTrials: 3, maxEpochs: 2 }, GRID_SPACE), flat).study.trials).toHaveLength(3);
  });
});

describe("median stopping", () => {
  const pruning = { kind: "median", minTrials: 3, warmupEpochs: 1 };
  // Trials 0-2 learn well; later ones are far worse and should stop right after the warm-up epoch.
  const value = (t: TrialRecord, epoch: number) => (Number(t.id.slice(6)) < 3 ? 0.1 * epoch : 0.01 * epoch);
  const tuner = { kind: "random", maxTrials: 6, maxEpochs: 10, seed: 42, pruning };

  it("prunes a trial worse than the median of completed trials' running means", () => {
    const { study: s } = drive(study(tuner), value);
    expect(s.trials.slice(0, 3).map((t) => [t.status, t.history.length])).toEqual([
      ["completed", 10],
      ["completed", 10],
      ["completed", 10],
    ]);
    expect(s.trials.slice(3).map((t) => [t.status, t.history.length])).toEqual([
      ["pruned", 2],
      ["pruned", 2],
      ["pruned", 2],
    ]);
  });

  it("never prunes when pruning is off (the default)", () => {
    const { study: s } = drive(study({ ...tuner, pruning: undefined }), value);
    expect(s.trials.every((t) => t.status === "completed" && t.history.length === 10)).toBe(true);
  });

  it("waits for minTrials completed trials and the warm-up before pruning", () => {
    let s = study({ ...tuner, pruning: { ...pruning, warmupEpochs: 3 } });
    const trial = (id: string, history: number[], status: TrialRecord["status"]): TrialRecord => ({
      id,
      params: {},
      status,
      bracket: 0,
      round: 0,
      epochsTarget: 10,
      history,
    });
    s = {
      ...s,
      trials: [
        trial("a", [0.8, 0.9, 0.9, 0.9], "completed"),
        trial("b", [0.8, 0.9, 0.9, 0.9], "completed"),
        trial("x", [0.1, 0.1, 0.1], "running"),
      ],
    };
    expect(shouldStop(s, "x")).toBe(false); // two completed trials only
    s = { ...s, trials: [trial("c", [0.8, 0.9, 0.9, 0.9], "completed"), ...s.trials] };
    expect(shouldStop(s, "x")).toBe(false); // epoch 3 is still warm-up
    s = { ...s, trials: s.trials.map((t) => (t.id === "x" ? { ...t, history: [0.1, 0.1, 0.1, 0.1] } : t)) };
    expect(shouldStop(s, "x")).toBe(true);
  });

  it("prunes on loss the other way round: a higher loss than the median", () => {
    const trial = (id: string, history: number[], status: TrialRecord["status"]): TrialRecord => ({
      id,
      params: {},
      status,
      bracket: 0,
      round: 0,
      epochsTarget: 10,
      history,
    });
    const done = [0.5, 0.4, 0.3];
    const s: Tuned = {
      ...study(tuner, RANDOM_SPACE, "val_loss"),
      trials: [
        trial("a", done, "completed"),
        trial("b", done, "completed"),
        trial("c", done, "completed"),
        trial("lo", [0.2, 0.1], "running"),
        trial("hi", [0.9, 0.8], "running"),
      ],
    };
    expect([shouldStop(s, "lo"), shouldStop(s, "hi")]).toEqual([false, true]);
  });
});

describe("objective and results", () => {
  const trial = (id: string, history: number[], status: TrialRecord["status"] = "completed"): TrialRecord => ({
    id,
    params: { learningRate: 0.01, hiddenUnits: [300, 100] },
    status,
    bracket: 0,
    round: 0,
    epochsTarget: 3,
    history,
  });
  // Best by max: t4 .95, t1 .9, t0 = t5 .8. Best by min: t1 .6, t0 = t5 .7, t4 .95. t2 and t3 have no finite value.
  const trials = [
    trial("t0", [0.7, 0.8]),
    trial("t1", [0.6, 0.9, 0.85]),
    trial("t2", [], "failed"),
    trial("t3", [NaN]),
    trial("t4", [0.95]),
    trial("t5", [0.8, 0.7]),
  ];

  it.each([
    ["val_accuracy", "max"],
    ["accuracy", "max"],
    ["val_loss", "min"],
    ["loss", "min"],
  ] as const)("infers %s -> %s", (name, direction) => {
    expect(objectiveFor(name).direction).toBe(direction);
  });

  it("refuses an objective whose direction it cannot infer", () => {
    expect(() => objectiveFor("f1")).toThrow(
      /^objective "f1": not a metric the trainer reports per epoch; expected one of val_accuracy, val_loss, accuracy, loss \(or give the direction of a metric of your own\)$/,
    );
    expect(() => objectiveFor("f1")).toThrow(ObjectiveError);
    expect(() => objectiveFor("val_los")).toThrow(/not a metric the trainer reports/);
    expect(objectiveFor("f1", "max")).toEqual({ name: "f1", direction: "max" });
  });

  it("finds the best value and its 1-based epoch, skipping NaN", () => {
    expect(bestOf([0.5, NaN, 0.3, 0.4], "min")).toEqual({ value: 0.3, epoch: 3 });
    expect(bestOf([NaN], "max")).toBeUndefined();
  });

  it("ranks by best objective, direction aware, trials without a value last, ties in start order", () => {
    expect(rankTrials(trials, objectiveFor("val_accuracy")).map((t) => t.id)).toEqual(["t4", "t1", "t0", "t5", "t2", "t3"]);
    expect(rankTrials(trials, objectiveFor("val_loss")).map((t) => t.id)).toEqual(["t1", "t0", "t5", "t4", "t2", "t3"]);
    expect(bestTrial(trials, objectiveFor("val_accuracy"))?.id).toBe("t4");
    expect(bestTrial(trials, objectiveFor("val_loss"))?.id).toBe("t1");
    expect(bestTrial([trial("x", [])], objectiveFor("val_accuracy"))).toBeUndefined();
  });

  it("makes table rows: trial, status, params, epochs run, the best objective, its epoch and the seconds kept", () => {
    const objective = objectiveFor("val_accuracy");
    const rows = resultRows(trials, objective);
    const row1 = { trial: "t1", status: "completed", params: trials[1]!.params, epochsRun: 3, best: 0.9, bestEpoch: 2, seconds: null };
    expect(rows[1]).toEqual(row1);
    expect(rows.at(-1)).toMatchObject({ trial: "t3", best: null, bestEpoch: null });
    expect(tableRecords(rows, objective)[1]).toEqual({
      trial: "t1",
      status: "completed",
      hiddenUnits: "[300,100]",
      learningRate: 0.01,
      "epochs run": 3,
      val_accuracy: 0.9,
      "best epoch": 2,
    });
    const timed = resultRows([{ ...trials[1]!, seconds: 12.345 }], objective);
    expect(tableRecords(timed, objective)[0]).toMatchObject({ "best epoch": 2, seconds: 12.35 });
  });
});
