import { describe, expect, it } from "vitest";
import { changedKeys, compareCurvesFigure, legendValue, runChanges } from "../../lib/figures/compare";
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
      ["a: lr=0.01", true, "y"],
      ["a: lr=0.01", false, "y2"],
      ["b: lr=0.1", true, "y"],
      ["b: lr=0.1", false, "y2"],
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
    expect(names.map((t) => t.name)).toEqual(["trial-000: lr=0.0868, opt=adam", "trial-001: lr=0.0539, opt=sgd"]);
    expect(legendValue([300, 100])).toBe("[300,100]");
    expect(legendValue(30)).toBe("30");
  });

  it("draws one panel across the width when asked for one metric, as Géron's optimizer figure", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.7, 0.8]), run("b", 0.1, [0.6, 0.7])], { metrics: ["val_accuracy"] });
    expect(fig.data.map((t) => [t.name, t.y])).toEqual([
      ["a: lr=0.01", [0.7, 0.8]],
      ["b: lr=0.1", [0.6, 0.7]],
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

  // Issue 23: the legend listed every hyperparameter that differed anywhere, for every run, and ran off the figure.
  it("names each run and only what it changed from the value most runs share", () => {
    // 0.01 is the common learning rate (2 of 4 runs, every other value once), sgd and [300, 100] too (3 of 4).
    const base = { epochs: 30, learningRate: 0.01, optimizer: "sgd", hiddenUnits: [300, 100], seed: 42 };
    expect(
      runChanges([
        base,
        { ...base, learningRate: 0.03 },
        { ...base, optimizer: "adam", learningRate: 0.001 },
        { ...base, hiddenUnits: [100] },
      ]),
    ).toEqual([[], ["lr=0.03"], ["lr=0.001", "opt=adam"], ["hidden=[100]"]]);
    // Without a common value (a sweep: each run its own rate; or a tie), every run names its value.
    expect(runChanges([1, 2, 3].map((lr) => ({ learningRate: lr })))).toEqual([["lr=1"], ["lr=2"], ["lr=3"]]);
    expect(runChanges([1, 1, 2, 2].map((lr) => ({ learningRate: lr })))).toEqual([["lr=1"], ["lr=1"], ["lr=2"], ["lr=2"]]);
    const fig = compareCurvesFigure([
      { ...run("tutorial", 0.01, [0.8]), config: base },
      { ...run("adam", 0.01, [0.8]), config: { ...base, optimizer: "adam", learningRate: 0.001 } },
      { ...run("wide", 0.01, [0.8]), config: { ...base, hiddenUnits: [100] } },
    ]);
    expect(fig.data.filter((t) => (t as { showlegend: boolean }).showlegend).map((t) => t.name)).toEqual([
      "tutorial",
      "adam: lr=0.001, opt=adam",
      "wide: hidden=[100]",
    ]);
  });

  it("wraps a long legend entry, two entries a row, and grows the figure to hold them", () => {
    const base = { learningRate: 0.01, optimizer: "sgd", activation: "relu", initializer: "glorot_uniform", dropout: 0, l2: 0 };
    const long = {
      learningRate: 0.005,
      optimizer: "adam",
      activation: "selu",
      initializer: "lecun_normal",
      dropout: 0.1,
      l2: 0.0001,
      lrSchedule: { type: "exponential", decaySteps: 17200, decayRate: 0.1 },
    };
    const runs = [
      { ...run("base", 0.01, [0.8]), config: { ...base, lrSchedule: null } },
      { ...run("changed-everything", 0.01, [0.8]), config: long },
    ];
    const fig = compareCurvesFigure(runs);
    const names = fig.data.filter((t) => (t as { showlegend: boolean }).showlegend).map((t) => String(t.name));
    const lines = names[1]!.split("<br>");
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(65);
    expect(lines.join(" ")).toBe(
      "changed-everything: lr=0.005, opt=adam, act=selu, init=lecun_normal, dropout=0.1, l2=0.0001, " +
        "schedule=exponential(decaySteps=17200, decayRate=0.1)",
    );
    const layout = fig.layout as { height: number; legend: { entrywidth: number; entrywidthmode: string }; margin: { b: number } };
    expect([layout.legend.entrywidth, layout.legend.entrywidthmode]).toEqual([0.45, "fraction"]);
    // One row, as tall as its wrapped entry: the plots keep their height, the figure grows below them.
    const short = compareCurvesFigure([runs[0]!, { ...runs[0]!, name: "b", config: { ...base, learningRate: 0.1, lrSchedule: null } }]);
    const grown = layout.height - (short.layout as { height: number }).height;
    expect(grown).toBe((lines.length - 1) * 14);
    expect(layout.margin.b - (short.layout as { margin: { b: number } }).margin.b).toBe(grown);
  });
});
