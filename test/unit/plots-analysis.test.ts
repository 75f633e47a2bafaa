import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classScoresFigure } from "../../lib/figures/scores";
import { confusionMatrixFigure } from "../../lib/figures/confusion";
import { INTERACTIVE_JSON_LIMIT, inlineFigureHtml, plotlyMimeBundle } from "../../lib/figures/render/inline";
import { learningCurvesFigure } from "../../lib/figures/curves";
import { misclassifiedFigure, selectImages } from "../../lib/figures/misclassified";
import { offlineIndexHtml, WINDOW_PLOTLY_ROUTE } from "../../lib/figures/render/window";
import { rendererStats } from "../../lib/figures/render/chromium";
import type { Figure } from "../../lib/figures/figure";

// Figure specs of the error-analysis figures, the inline HTML and nodeplotlib's offline page: plain data, no browser.

type AnyRecord = Record<string, any>;
const layoutOf = (fig: Figure): AnyRecord => fig.layout as AnyRecord;
const traceOf = (fig: Figure, i: number): AnyRecord => fig.data[i] as AnyRecord;

const COUNTS = [
  [2, 1, 1],
  [1, 1, 0],
  [0, 1, 2],
];
const NAMES = ["a", "b", "c"];

describe("confusionMatrixFigure", () => {
  it("draws counts as one heatmap with class names on both axes and every count written in its cell", () => {
    const fig = confusionMatrixFigure(COUNTS, { classNames: NAMES });
    const t = traceOf(fig, 0);
    expect(t.type).toBe("heatmap");
    expect(t.z).toEqual(COUNTS);
    expect(t.x).toEqual(NAMES);
    expect(t.y).toEqual(NAMES);
    expect(t.text).toEqual([
      ["2", "1", "1"],
      ["1", "1", "0"],
      ["0", "1", "2"],
    ]);
    expect(t.texttemplate).toBe("%{text}");
    expect(layoutOf(fig).title.text).toBe("Confusion matrix");
  });

  it("puts the first class at the top and labels the axes as sklearn does", () => {
    const l = layoutOf(confusionMatrixFigure(COUNTS, { classNames: NAMES }));
    expect(l.yaxis.autorange).toBe("reversed");
    expect(l.xaxis.title.text).toBe("Predicted label");
    expect(l.yaxis.title.text).toBe("True label");
  });

  it('shows row rates with normalize "true", written with 2 decimals, on a 0..1 colour scale', () => {
    const fig = confusionMatrixFigure(COUNTS, { classNames: NAMES, normalize: "true" });
    const t = traceOf(fig, 0);
    expect(t.z[0]).toEqual([0.5, 0.25, 0.25]);
    expect(t.text[0]).toEqual(["0.50", "0.25", "0.25"]);
    expect([t.zmin, t.zmax]).toEqual([0, 1]);
    expect(layoutOf(fig).title.text).toMatch(/normalised over true class/);
  });

  it("defaults to the ten Fashion-MNIST class names", () => {
    const ten = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 90 : 1)));
    expect(traceOf(confusionMatrixFigure(ten), 0).x[9]).toBe("Ankle boot");
  });

  it("rejects class names that do not match the matrix", () => {
    expect(() => confusionMatrixFigure(COUNTS)).toThrow(/classNames has 10 names for a 3x3 matrix/);
  });

  it("rejects a non-square matrix", () => {
    expect(() => confusionMatrixFigure([[1, 2], [3]], { classNames: ["a", "b"] })).toThrow(/counts\[1\] has 1 cells, expected 2/);
  });

  it("rejects an unknown normalisation", () => {
    expect(() => confusionMatrixFigure(COUNTS, { classNames: NAMES, normalize: "rows" as never })).toThrow(
      /normalize must be "true", "pred" or "all", got "rows"/,
    );
  });
});

describe("misclassifiedFigure and selectImages", () => {
  const batch = { data: Float32Array.from({ length: 3 * 4 }, (_, i) => i), shape: [3, 2, 2] };

  it("selectImages copies the chosen rows in the given order", () => {
    const sel = selectImages(batch, [2, 0]);
    expect(sel.shape).toEqual([2, 2, 2]);
    expect(Array.from(sel.data)).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
  });

  it("selectImages rejects an index outside the batch", () => {
    expect(() => selectImages(batch, [3])).toThrow(/image index 3 is outside 0\.\.2/);
  });

  it("draws one image per case titled with the prediction, its probability and the true class", () => {
    const cases = [
      { trueClass: 6, predictedClass: 0, probability: 0.973 },
      { trueClass: 4, predictedClass: 2, probability: 0.5 },
    ];
    const fig = misclassifiedFigure(selectImages(batch, [0, 1]), cases, { nCols: 2, title: "" });
    expect(fig.data).toHaveLength(2);
    const titles = layoutOf(fig).annotations.map((a: AnyRecord) => a.text);
    expect(titles[0]).toMatch(/T-shirt\/top 0\.97.*true: Shirt/);
    expect(titles[1]).toMatch(/Pullover 0\.50.*true: Coat/);
  });

  it("draws every image from its own pixels on one shared pair of axes, hover naming both classes", () => {
    const cases = [
      { trueClass: 6, predictedClass: 0, probability: 0.973 },
      { trueClass: 4, predictedClass: 2, probability: 0.5 },
    ];
    const fig = misclassifiedFigure(selectImages(batch, [2, 0]), cases, { nCols: 2, title: "" });
    const traces = fig.data as AnyRecord[];
    expect(traces.map((t) => [t.xaxis, t.yaxis])).toEqual([
      ["x", "y"],
      ["x", "y"],
    ]);
    expect(traces.map((t) => t.z)).toEqual([
      [
        [8, 9],
        [10, 11],
      ],
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    expect(traces[0]!.x0).toBeLessThan(traces[1]!.x0);
    expect(traces[0]!.hovertemplate).toBe("T-shirt/top 0.97 (true: Shirt): %{z:.3~g}<extra></extra>");
    expect(layoutOf(fig).yaxis.range).toEqual([layoutOf(fig).height, 0]);
  });

  it("wraps into rows of nCols", () => {
    const cases = Array.from({ length: 3 }, () => ({ trueClass: 1, predictedClass: 0, probability: 0.9 }));
    const one = misclassifiedFigure(batch, cases, { nCols: 3 });
    const two = misclassifiedFigure(batch, cases, { nCols: 2 });
    expect(layoutOf(two).height).toBeGreaterThan(layoutOf(one).height);
    expect(layoutOf(two).width).toBeLessThan(layoutOf(one).width);
  });

  it("rejects a case count that differs from the images", () => {
    expect(() => misclassifiedFigure(batch, [{ trueClass: 0, predictedClass: 1, probability: 0.9 }])).toThrow(
      /cases has 1 entries for 3 images/,
    );
  });

  it("rejects a class index with no name", () => {
    const cases = [{ trueClass: 0, predictedClass: 12, probability: 0.9 }];
    expect(() => misclassifiedFigure(selectImages(batch, [0]), cases)).toThrow(/predictedClass 12 has no class name; expected 0\.\.9/);
  });
});

describe("classScoresFigure", () => {
  const scores = [
    { className: "a", precision: 0.9, recall: 0.8, f1: 0.85 },
    { className: "b", precision: 0.7, recall: 0.6, f1: 0.65 },
  ];

  it("draws precision, recall and F1 as three grouped bar series over the classes", () => {
    const fig = classScoresFigure(scores);
    expect(fig.data.map((t) => (t as AnyRecord).name)).toEqual(["precision", "recall", "F1"]);
    expect(traceOf(fig, 1).x).toEqual(["a", "b"]);
    expect(traceOf(fig, 1).y).toEqual([0.8, 0.6]);
    expect(layoutOf(fig).barmode).toBe("group");
    expect(layoutOf(fig).yaxis.range).toEqual([0, 1]);
  });

  it("rejects a score outside 0..1", () => {
    expect(() => classScoresFigure([{ className: "a", precision: 1.2, recall: 0.5, f1: 0.5 }])).toThrow(
      /scores\[0\]\.precision must be a number in 0\.\.1, got 1\.2/,
    );
  });
});

describe("learningCurvesFigure with shiftTraining", () => {
  const history = { loss: [0.7, 0.5, 0.4], val_loss: [0.6, 0.5, 0.45] };

  it("moves training curves half an epoch left and leaves validation curves at the epoch end", () => {
    const fig = learningCurvesFigure(history, { shiftTraining: true });
    expect(traceOf(fig, 0).x).toEqual([-0.5, 0.5, 1.5]);
    expect(traceOf(fig, 1).x).toEqual([0, 1, 2]);
    expect(traceOf(fig, 0).customdata).toEqual([0, 1, 2]); // hover still names the epoch
  });

  it("does not shift by default", () => {
    expect(traceOf(learningCurvesFigure(history), 0).x).toEqual([0, 1, 2]);
  });
});

describe("inlineFigureHtml", () => {
  const fig = confusionMatrixFigure(COUNTS, { classNames: ["</script>", "b", "c"] });

  it("holds the figure's data and a call to the page's plotly, not the 4 MB bundle", () => {
    const html = inlineFigureHtml(fig);
    expect(html).toContain("window.Plotly.newPlot(");
    expect(html.length).toBeLessThan(10_000);
    expect(html).toMatch(/<div id="fashion-ann-figure-[^"]+" style="width:\d+px;height:\d+px">/);
  });

  it("keeps a class name with </script> from ending the script", () => {
    expect(inlineFigureHtml(fig).match(/<\/script>/g)).toHaveLength(1);
  });

  it("says how to load plotly when the page lacks it", () => {
    expect(inlineFigureHtml(fig)).toMatch(/if \(!window\.Plotly\).*includePlotly: true/);
  });

  it("gives every figure its own element id", () => {
    const id = (h: string) => /id="([^"]+)"/.exec(h)![1];
    expect(id(inlineFigureHtml(fig))).not.toBe(id(inlineFigureHtml(fig)));
  });
});

describe("plotlyMimeBundle (the interactive copy showInline sends beside the PNG)", () => {
  it("is the figure's data and layout with the requested size, in plotly's renderer's shape", () => {
    const fig = learningCurvesFigure({ loss: [0.7, 0.5], val_loss: [0.6, 0.55] });
    const bundle = plotlyMimeBundle(fig, { width: 640 }) as { data: unknown; layout: { width: number }; config: object };
    expect(bundle.data).toEqual(fig.data);
    expect(bundle.layout.width).toBe(640);
    expect(bundle.config).toEqual({ displaylogo: false });
    expect(JSON.stringify(bundle).length).toBeLessThan(5_000);
  });

  it("leaves the width to the output area unless one is asked for, and keeps the height", () => {
    const fig = learningCurvesFigure({ loss: [0.7, 0.5], val_loss: [0.6, 0.55] });
    const bundle = plotlyMimeBundle(fig) as { layout: { width?: number; height: number; autosize: boolean } };
    expect(fig.layout?.width).toBeGreaterThan(0);
    expect(bundle.layout.width).toBeUndefined();
    expect(bundle.layout.autosize).toBe(true);
    expect(bundle.layout.height).toBe(fig.layout?.height);
  });

  it("rounds the float32 noise of tensor data to six significant digits", () => {
    const fig = learningCurvesFigure({ loss: [Math.fround(0.7315123456)], val_loss: [0.5] });
    const bundle = plotlyMimeBundle(fig) as { data: { y: number[] }[] };
    expect(bundle.data[0]!.y).toEqual([0.731512]);
  });

  it("is left out for a figure whose JSON would be over the limit", () => {
    const pixels = Array.from({ length: 24 }, (_, i) => Array.from({ length: 784 }, (_, j) => (i * 784 + j) % 256));
    const wrong = pixels.map((_, i) => ({ index: i, trueClass: 0, predictedClass: 1, probability: 0.987654321 }));
    const fig = misclassifiedFigure(
      selectImages(
        { data: Uint8Array.from(pixels.flat()), shape: [24, 28, 28] },
        wrong.map((w) => w.index),
      ),
      wrong,
      {
        classNames: Array.from({ length: 10 }, (_, i) => `class ${i}`),
      },
    );
    expect(JSON.stringify(fig).length).toBeGreaterThan(INTERACTIVE_JSON_LIMIT);
    expect(plotlyMimeBundle(fig)).toBeUndefined();
  });
});

describe("offlineIndexHtml (nodeplotlib's page without the network)", () => {
  const original = readFileSync(join(__dirname, "../../node_modules/nodeplotlib/src/lib/server/web/index.html"), "utf8");

  it("starts from a page that asks the CDN for plotly", () => {
    expect(original).toMatch(/src="https:\/\/cdn\.plot\.ly\/plotly-[\d.]+\.min\.js"/);
  });

  it("loads plotly from nodeplotlib's own server instead, before the app's scripts", () => {
    const html = offlineIndexHtml(original);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html.indexOf(`<script src="${WINDOW_PLOTLY_ROUTE}"></script>`)).toBeGreaterThan(0);
    expect(html.indexOf(WINDOW_PLOTLY_ROUTE)).toBeLessThan(html.indexOf('src="main.js"'));
  });

  it("refuses a page it cannot patch", () => {
    expect(() => offlineIndexHtml("<html><body></body></html>")).toThrow(/no <\/head>.*not supported by show\(\)/);
  });
});

describe("no browser", () => {
  it("was launched for any of the above", () => {
    expect(rendererStats().launches).toBe(0);
  });
});
