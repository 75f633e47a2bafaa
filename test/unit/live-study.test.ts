import { describe, expect, it } from "vitest";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import type { TrialRecord } from "../../lib/search/core/study";
import { liveStudyView } from "../../lib/search/live-study";

const space = parseSearchSpace({ learningRate: { type: "float", min: 1e-4, max: 0.1, log: true } }, ["learningRate"]);
const trial = (history: number[], status: TrialRecord["status"] = "running"): TrialRecord => ({
  id: "trial-000",
  params: { learningRate: 0.01 },
  status,
  bracket: 0,
  round: 0,
  epochsTarget: 3,
  history,
});

describe("liveStudyView", () => {
  it("redraws the intermediate values from the study as it is now; changes during a render are drawn by the next one", async () => {
    let study = [trial([0.5])];
    const shown: string[] = [];
    let release: () => void = () => {};
    let renders = 0;
    const view = liveStudyView(async () => study, space, objectiveFor("val_accuracy"), {
      newDisplay: () => ({ svg: (s) => shown.push(s) }),
      // The first render waits until released, as a slow Chromium would.
      render: async (fig) => {
        if (renders++ === 0) await new Promise<void>((r) => (release = r));
        return JSON.stringify(fig.data[0]!.y);
      },
      gapMs: 0,
    });
    expect(view.shown).toBe(true);
    view.changed();
    await new Promise((r) => setTimeout(r, 10));
    study = [trial([0.5, 0.6])];
    view.changed();
    study = [trial([0.5, 0.6, 0.7], "completed")];
    view.changed();
    release();
    await view.finish();
    expect(shown[0]).toBe("[0.5]");
    expect(shown.at(-1)).toBe("[0.5,0.6,0.7]");
    // One render for the first epoch, one for the two that came during it, and finish()'s last one.
    expect(view.renders).toBeLessThanOrEqual(3);
  });

  it("outside a notebook draws nothing and never loads the study", async () => {
    let loads = 0;
    const view = liveStudyView(
      async () => {
        loads++;
        return [];
      },
      space,
      objectiveFor("val_accuracy"),
      { newDisplay: undefined },
    );
    expect(view.shown).toBe(false);
    view.changed();
    await view.finish();
    expect(loads).toBe(0);
  });
});
