import { describe, expect, it } from "vitest";
import { changedKeys, compareCurvesFigure, legendValue } from "../../lib/figures/compare";
import { TAB10 } from "../../lib/figures/curves";

const run = (name: string, learningRate: number, valAcc: number[]) => ({
  name,
  config: { epochs: valAcc.length, learningRate },
  history: { history: { val_accuracy: valAcc, val_loss: valAcc.map((a) => 1 - a) } },
});

describe("compareCurvesFigure", () => {
  it("shows a legend, since the traces are told apart by their names", () => {
    expect(compareCurvesFigure([run("a", 0.01, [0.8])]).layout.showlegend).toBe(true);
  });

  it("draws a 1-epoch run as visible markers at epoch 1, in both panels", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.8])]);
    expect(fig.data.map((t) => [t.x, t.mode, (t as { yaxis: string }).yaxis])).toEqual([
      [[1], "lines+markers", "y"],
      [[1], "lines+markers", "y2"],
    ]);
  });

  it("counts epochs from 1, gives each run one tab10 colour and one legend entry, val_loss on its own axis", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.7, 0.8, 0.85]), run("b", 0.1, [0.6, 0.7, 0.75])]);
    expect(fig.data[0]!.x).toEqual([1, 2, 3]);
    expect(fig.data.map((t) => (t as { line: { color: string } }).line.color)).toEqual([TAB10[0], TAB10[0], TAB10[1], TAB10[1]]);
    expect(fig.data.map((t) => [t.name, (t as { showlegend: boolean }).showlegend, (t as { yaxis: string }).yaxis])).toEqual([
      ["learningRate=0.01", true, "y"],
      ["learningRate=0.01", false, "y2"],
      ["learningRate=0.1", true, "y"],
      ["learningRate=0.1", false, "y2"],
    ]);
    expect(fig.data[1]!.y).toEqual([0.30000000000000004, 0.19999999999999996, 0.15000000000000002]);
    const layout = fig.layout as { yaxis: { range: number[] }; yaxis2: { rangemode: string } };
    expect(layout.yaxis.range).toEqual([0, 1]);
    expect(layout.yaxis2.rangemode).toBe("tozero");
  });

  it("names a search's trials by id and shows numbers to 3 significant digits", () => {
    const a = { ...run("trial-000", 0.08679182881073083, [0.8]), config: { learningRate: 0.08679182881073083, optimizer: "adam" } };
    const b = { ...run("trial-001", 0.05394078668900003, [0.8]), config: { learningRate: 0.05394078668900003, optimizer: "sgd" } };
    const names = compareCurvesFigure([a, b], { named: true }).data.filter((t) => (t as { showlegend: boolean }).showlegend);
    expect(names.map((t) => t.name)).toEqual([
      "trial-000: learningRate=0.0868, optimizer=adam",
      "trial-001: learningRate=0.0539, optimizer=sgd",
    ]);
    expect(legendValue([300, 100])).toBe("[300,100]");
    expect(legendValue(30)).toBe("30");
  });

  it("draws one panel across the width when asked for one metric, as Géron's optimizer figure", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.7, 0.8]), run("b", 0.1, [0.6, 0.7])], { metrics: ["val_accuracy"] });
    expect(fig.data.map((t) => [t.name, t.y])).toEqual([
      ["learningRate=0.01", [0.7, 0.8]],
      ["learningRate=0.1", [0.6, 0.7]],
    ]);
    const layout = fig.layout as { xaxis: { domain: number[] }; yaxis: { title: { text: string } }; xaxis2?: unknown };
    expect(layout.xaxis.domain).toEqual([0, 1]);
    expect(layout.yaxis.title.text).toBe("val_accuracy");
    expect(layout.xaxis2).toBeUndefined();
  });

  it("names runs by the config keys that differ", () => {
    expect(
      changedKeys([
        { a: 1, b: [1, 2] },
        { a: 1, b: [3] },
      ]),
    ).toEqual(["b"]);
  });
});
