import { describe, expect, it } from "vitest";
import { defined } from "../defined";
import {
  classificationReport,
  classificationReportDataFrame,
  confusedPairsDataFrame,
  confusionMatrix,
  formatClassificationReport,
  misclassified,
  mostConfusedPairs,
  normalizeConfusion,
  perClassScores,
} from "../../lib/results/metrics";

// A 3-class case worked out by hand:
//   yTrue 0 0 0 0 1 1 2 2 2
//   yPred 0 0 1 2 1 0 2 2 1
// counts (rows true, columns predicted): [2 1 1] [1 1 0] [0 1 2]; column sums 3 3 3; row sums 4 2 3.
const NAMES = ["a", "b", "c"];
const Y_TRUE = [0, 0, 0, 0, 1, 1, 2, 2, 2];
const Y_PRED = [0, 0, 1, 2, 1, 0, 2, 2, 1];
const cm = confusionMatrix(Y_TRUE, Y_PRED, NAMES);

describe("confusionMatrix", () => {
  it("counts true class (row) against predicted class (column)", () => {
    expect(cm.counts).toEqual([
      [2, 1, 1],
      [1, 1, 0],
      [0, 1, 2],
    ]);
    expect(cm.total).toBe(9);
    expect(cm.classNames).toEqual(NAMES);
  });

  it("accepts typed arrays such as the uint8 test labels", () => {
    expect(confusionMatrix(Uint8Array.from(Y_TRUE), Int32Array.from(Y_PRED), NAMES).counts).toEqual(cm.counts);
  });

  it("has a row for a class that never occurs, all zeros", () => {
    expect(confusionMatrix([0, 1], [0, 1], ["a", "b", "c"]).counts[2]).toEqual([0, 0, 0]);
  });

  it("rejects labels and predictions of different lengths", () => {
    expect(() => confusionMatrix([0, 1, 2], [0, 1], NAMES)).toThrow(/yTrue has 3 labels but yPred has 2/);
  });

  it("rejects a class index outside the class names", () => {
    expect(() => confusionMatrix([0, 3], [0, 1], NAMES)).toThrow(/yTrue\[1\] = 3 is not a class index in 0\.\.2/);
  });

  it("rejects probabilities passed as predictions", () => {
    expect(() => confusionMatrix([0, 1], [0.2, 0.9], NAMES)).toThrow(/yPred\[0\] = 0\.2 is not a class index.*predictClasses/);
  });
});

describe("normalizeConfusion", () => {
  it('divides each row by its total with "true" (recall on the diagonal)', () => {
    expect(normalizeConfusion(cm.counts, "true")[0]).toEqual([0.5, 0.25, 0.25]);
    expect(normalizeConfusion(cm.counts, "true")[1]).toEqual([0.5, 0.5, 0]);
  });

  it('divides each column by its total with "pred"', () => {
    const p = normalizeConfusion(cm.counts, "pred");
    expect(p.map((r) => r[0])).toEqual([2 / 3, 1 / 3, 0]);
  });

  it('divides by the grand total with "all"', () => {
    expect(normalizeConfusion(cm.counts, "all")[2]).toEqual([0, 1 / 9, 2 / 9]);
  });

  it("gives zeros, not NaN, for a class with no images", () => {
    expect(
      normalizeConfusion(
        [
          [1, 0],
          [0, 0],
        ],
        "true",
      )[1],
    ).toEqual([0, 0]);
  });

  it("rejects a non-square matrix", () => {
    expect(() => normalizeConfusion([[1, 2], [3]], "true")).toThrow(/row 1 has 1 cells, expected 2/);
  });
});

describe("perClassScores and classificationReport", () => {
  const scores = perClassScores(cm);

  it("computes precision TP/(TP+FP), recall TP/(TP+FN), F1 and support per class", () => {
    expect(scores.map((s) => s.className)).toEqual(NAMES);
    expect(scores.map((s) => s.precision)).toEqual([2 / 3, 1 / 3, 2 / 3]);
    expect(scores.map((s) => s.recall)).toEqual([0.5, 0.5, 2 / 3]);
    // F1 = 2PR/(P+R): 4/7, 2/5, 2/3
    expect(defined(scores[0], "class a's scores").f1).toBeCloseTo(4 / 7, 12);
    expect(defined(scores[1], "class b's scores").f1).toBeCloseTo(2 / 5, 12);
    expect(defined(scores[2], "class c's scores").f1).toBeCloseTo(2 / 3, 12);
    expect(scores.map((s) => s.support)).toEqual([4, 2, 3]);
  });

  it("gives precision 0 (not NaN) to a class that was never predicted, as sklearn does", () => {
    const s = perClassScores(confusionMatrix([0, 1], [0, 0], ["a", "b"]));
    expect(s[1]).toEqual({ className: "b", precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it("reports accuracy and the macro and support-weighted averages", () => {
    const r = classificationReport(cm);
    expect(r.accuracy).toBeCloseTo(5 / 9, 12);
    expect(r.support).toBe(9);
    expect(r.macroAvg.precision).toBeCloseTo(5 / 9, 12);
    expect(r.macroAvg.recall).toBeCloseTo(5 / 9, 12);
    expect(r.macroAvg.f1).toBeCloseTo(172 / 315, 12);
    expect(r.weightedAvg.precision).toBeCloseTo(16 / 27, 12);
    expect(r.weightedAvg.recall).toBeCloseTo(5 / 9, 12); // weighted recall is always the accuracy
    expect(r.weightedAvg.f1).toBeCloseTo(178 / 315, 12);
  });

  it("prints like sklearn's classification_report", () => {
    const text = formatClassificationReport(classificationReport(cm));
    expect(text).toMatch(/^\s+precision\s+recall\s+f1-score\s+support$/m);
    expect(text).toMatch(/^\s+a\s+0\.67\s+0\.50\s+0\.57\s+4$/m);
    expect(text).toMatch(/^\s+accuracy\s+0\.56\s+9$/m);
    expect(text).toMatch(/^weighted avg\s+0\.59\s+0\.56\s+0\.57\s+9$/m);
  });

  it("makes a DataFrame with one row per class plus accuracy and the averages", () => {
    const df = classificationReportDataFrame(classificationReport(cm));
    expect(df.index).toEqual(["a", "b", "c", "accuracy", "macro avg", "weighted avg"]);
    expect(df.columns).toEqual(["precision", "recall", "f1-score", "support"]);
    expect(df.column("precision").values.slice(0, 3)).toEqual(["0.667", "0.333", "0.667"]);
    // sklearn leaves the accuracy row's precision and recall blank; NaN would read as a failed computation.
    expect(df.column("precision").values[3]).toBe("");
    expect(df.column("recall").values[3]).toBe("");
    expect(df.toString()).not.toMatch(/NaN/);
    expect(df.toString()).toContain("weighted avg");
  });
});

describe("mostConfusedPairs", () => {
  it("lists off-diagonal cells by count, ties by true then predicted class, with the share of the true class", () => {
    const counts = [
      [5, 3, 0],
      [1, 6, 4],
      [0, 3, 7],
    ];
    const pairs = mostConfusedPairs({ counts, classNames: NAMES, total: 29 }, 3);
    expect(pairs.map((p) => [p.trueName, p.predictedName, p.count])).toEqual([
      ["b", "c", 4],
      ["a", "b", 3],
      ["c", "b", 3],
    ]);
    expect(defined(pairs[0], "the most confused pair").rate).toBeCloseTo(4 / 11, 12);
  });

  it("leaves out empty cells", () => {
    expect(mostConfusedPairs(cm, 10)).toHaveLength(4);
  });

  it("rejects a top that is not a positive integer", () => {
    expect(() => mostConfusedPairs(cm, 0)).toThrow(/top must be a positive integer, got 0/);
  });

  it("makes a printable DataFrame", () => {
    const df = confusedPairsDataFrame(mostConfusedPairs(cm, 2));
    expect(df.columns).toEqual(["true", "predicted", "count", "rate"]);
    expect(df.column("rate").values).toEqual([0.25, 0.25]);
  });
});

describe("misclassified", () => {
  const probs = [
    [0.9, 0.05, 0.05], // true 0, right
    [0.2, 0.7, 0.1], // true 0, wrong with 0.7
    [0.1, 0.1, 0.8], // true 1, wrong with 0.8
    [0.3, 0.6, 0.1], // true 1, right
  ];
  const yTrue = [0, 0, 1, 1];

  it("returns the wrong predictions, most confident first", () => {
    expect(misclassified(probs, yTrue)).toEqual([
      { index: 2, trueClass: 1, predictedClass: 2, probability: 0.8 },
      { index: 1, trueClass: 0, predictedClass: 1, probability: 0.7 },
    ]);
  });

  it("keeps at most limit", () => {
    expect(misclassified(probs, yTrue, 1).map((m) => m.index)).toEqual([2]);
  });

  it("rejects a label count that differs from the rows", () => {
    expect(() => misclassified(probs, [0, 1])).toThrow(/probabilities has 4 rows but yTrue has 2 labels/);
  });
});
