import { describe, expect, it } from "vitest";
import { actionLine, trainArgs, trialDir } from "../../lib/search/driver";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import { applyAction } from "../../lib/search/core/study";
import { GridSampler, GridSpec } from "../../lib/search/samplers/grid";

describe("a trial's train arguments", () => {
  it("a started trial skips the tutorial figures and gets one wasm thread", () => {
    const args = trainArgs({ kind: "start", trialId: "trial-003", params: { learningRate: 0.01 }, epochs: 2 } as never, "/s", {});
    expect(args.slice(0, 5)).toEqual(["train", "--out", trialDir("/s", "trial-003"), "--force", "--no-figures"]);
    expect(args).toContain("threads=1");
  });
  it("a continued trial resumes to its new epoch count without figures", () => {
    const args = trainArgs({ kind: "continue", trialId: "trial-001", fromEpoch: 1, toEpoch: 3 } as never, "/s", {});
    expect(args).toEqual(["train", "--resume", trialDir("/s", "trial-001"), "--epochs", "3", "--no-figures"]);
  });
  it("says which epochs a continued trial runs, or that a trial killed after its last epoch only finishes", () => {
    const action = (fromEpoch: number) => ({ kind: "continue" as const, trialId: "trial-001", fromEpoch, toEpoch: 3, round: 0 });
    expect(actionLine(action(1))).toBe("continue epochs 2..3");
    expect(actionLine(action(3))).toBe("finish (its 3 epochs were all kept before the interruption)");
  });
});

describe("a grid over epochs", () => {
  it("sets each trial's epochs from its grid point, not the study's maxEpochs", () => {
    const space = parseSearchSpace({ epochs: { type: "choice", values: [1, 3] } }, ["epochs"]);
    const grid = new GridSampler(GridSpec.parse({ kind: "grid", maxEpochs: 30 }));
    const study = { space, objective: objectiveFor("val_accuracy"), trials: [] };
    const first = grid.nextAction(study);
    expect(first).toMatchObject({ kind: "start", epochs: 1 });
    const second = grid.nextAction(applyAction(study, first));
    expect(second).toMatchObject({ kind: "start", epochs: 3 });
  });
});
