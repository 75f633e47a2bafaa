import { describe, expect, it } from "vitest";
import { changedKeys, compareCurvesFigure } from "../../lib/figures/compare";
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

  it("draws a 1-epoch run as visible markers at epoch 1", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.8])]);
    expect(fig.data.map((t) => [t.x, t.mode])).toEqual([
      [[1], "lines+markers"],
      [[1], "lines+markers"],
    ]);
  });

  it("counts epochs from 1 and gives each run one tab10 colour, val_loss dashed", () => {
    const fig = compareCurvesFigure([run("a", 0.01, [0.7, 0.8, 0.85]), run("b", 0.1, [0.6, 0.7, 0.75])]);
    expect(fig.data[0]!.x).toEqual([1, 2, 3]);
    expect(fig.data.map((t) => (t as { line: { color: string } }).line.color)).toEqual([TAB10[0], TAB10[0], TAB10[1], TAB10[1]]);
    expect((fig.data[1] as { line: { dash?: string } }).line.dash).toBe("dash");
    expect(fig.data.map((t) => t.name)).toEqual([
      "learningRate=0.01 val_accuracy",
      "learningRate=0.01 val_loss",
      "learningRate=0.1 val_accuracy",
      "learningRate=0.1 val_loss",
    ]);
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
