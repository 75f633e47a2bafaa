import { describe, expect, it } from "vitest";
import { FigureError } from "../../lib/figures/figure";
import { intermediateValuesFigure, optimizationHistoryFigure } from "../../lib/figures/study-history";
import { paramImportancesFigure } from "../../lib/figures/study-importance";
import { contourFigure, parallelCoordinateFigure, sliceFigure } from "../../lib/figures/study-params";
import { studyPlotData } from "../../lib/search/analysis/study-view";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import type { TrialRecord } from "../../lib/search/core/study";
import { studyFigures } from "../../lib/search/study-report";

const space = parseSearchSpace(
  {
    learningRate: { type: "float", min: 1e-4, max: 0.1, log: true },
    optimizer: { type: "choice", values: ["sgd", "adam"] },
    hiddenUnits: { type: "choice", values: [[32], [64, 32]] },
  },
  ["learningRate", "optimizer", "hiddenUnits"],
);
const trial = (i: number, status: TrialRecord["status"], lr: number, opt: string, history: number[]): TrialRecord => ({
  id: `trial-00${i}`,
  params: { learningRate: lr, optimizer: opt, hiddenUnits: i % 2 ? [32] : [64, 32] },
  status,
  bracket: 0,
  round: 0,
  epochsTarget: 3,
  history,
});
const trials = [
  trial(0, "completed", 0.01, "sgd", [0.7, 0.8, 0.82]),
  trial(1, "pruned", 0.0002, "sgd", [0.5]),
  trial(2, "completed", 0.05, "adam", [0.75, 0.85, 0.84]),
  trial(3, "failed", 0.09, "adam", []),
  trial(4, "completed", 0.003, "adam", [0.72, 0.8, 0.86]),
];
const data = studyPlotData(trials, space, objectiveFor("val_accuracy"));

describe("study figures", () => {
  it("studyPlotData keeps each trial's number, state, best value and epochs; list choices as JSON text", () => {
    expect(data.trials.map((t) => [t.number, t.state, t.value])).toEqual([
      [0, "complete", 0.82],
      [1, "pruned", 0.5],
      [2, "complete", 0.85],
      [3, "failed", null],
      [4, "complete", 0.86],
    ]);
    expect(data.trials[0]!.params.hiddenUnits).toBe("[64,32]");
    expect(data.params.hiddenUnits).toEqual({ kind: "categorical", choices: ["[32]", "[64,32]"] });
  });

  it("history: completed dots, pruned crosses, and a best-so-far line that only improves", () => {
    const fig = optimizationHistoryFigure(data);
    const [done, pruned, best] = fig.data;
    expect(done!.x).toEqual([0, 2, 4]);
    expect(pruned!.x).toEqual([1]);
    expect(best!.name).toBe("Best Value");
    expect(best!.y).toEqual([0.82, 0.82, 0.85, 0.86]);
    expect((fig.layout.title as { text: string }).text).toBe("Optimization History Plot");
  });

  it("intermediate values: one line per trial that has epochs, epochs from 1, the pruned one dotted and crossed", () => {
    const fig = intermediateValuesFigure(data);
    expect(fig.data.map((p) => p.name)).toEqual(["Trial0", "Trial1 (pruned)", "Trial2", "Trial4", "pruned here"]);
    expect(fig.data[0]!.x).toEqual([1, 2, 3]);
    expect((fig.data[1]!.line as { dash: string }).dash).toBe("dot");
    expect(fig.data.at(-1)!.x).toEqual([1]);
  });

  it("parallel coordinates: objective axis then one per parameter, the best line darkest", () => {
    const fig = parallelCoordinateFigure(data);
    expect((fig.layout.xaxis as { ticktext: string[] }).ticktext).toEqual(["val_accuracy", "hiddenUnits", "learningRate", "optimizer"]);
    const lines = fig.data.filter((p) => p.mode === "lines");
    expect(lines).toHaveLength(4);
    const color = (i: number) => (lines[i]!.line as { color: string }).color;
    // 0.86 (trial 4, the last line) is the best of a maximised objective: the end of the Blues scale.
    expect(color(3)).toBe("rgb(8,48,107)");
    expect(color(1)).toBe("rgb(247,251,255)");
  });

  it("slices: one subplot per parameter, a log axis for the learning rate, categories for choices", () => {
    const fig = sliceFigure(data);
    expect(fig.data).toHaveLength(3);
    expect((fig.layout as Record<string, { type?: string }>).xaxis2!.type).toBe("log");
    expect((fig.layout as Record<string, { type?: string }>).xaxis3!.type).toBe("category");
  });

  it("contour: a grid over the two parameters' trial values, the trials as dots; a clear error for a wrong name", () => {
    const fig = contourFigure(data, ["learningRate", "optimizer"]);
    expect(fig.data[0]!.type).toBe("contour");
    expect(fig.data[0]!.x).toEqual([0.0002, 0.003, 0.01, 0.05]);
    expect(fig.data[0]!.y).toEqual([0, 1]);
    expect(() => contourFigure(data, ["learningRate", "momentum"])).toThrow(/needs two searched parameters, got "momentum"/);
  });

  it("importances: most important bar on top with its share written beside it", () => {
    const fig = paramImportancesFigure({ a: 0.7, b: 0.295, c: 0.005 }, { method: "PED-ANOVA" });
    expect(fig.data[0]!.y).toEqual(["c", "b", "a"]);
    expect(fig.data[0]!.text).toEqual(["<0.01", "0.29", "0.70"]);
    expect(() => paramImportancesFigure({})).toThrow(FigureError);
  });

  it("studyFigures draws all six once there are two completed trials, the contour over the top two", () => {
    const { figures, importances } = studyFigures(data);
    expect(Object.keys(figures).sort()).toEqual(
      ["study_contour", "study_history", "study_importances", "study_intermediate", "study_parallel", "study_slice"].sort(),
    );
    const [x, y] = Object.keys(importances);
    expect((figures.study_contour!.layout.xaxis as { title: { text: string } }).title.text).toBe(x);
    expect((figures.study_contour!.layout.yaxis as { title: { text: string } }).title.text).toBe(y);
  });
});
