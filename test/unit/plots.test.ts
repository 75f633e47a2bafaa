import { afterEach, describe, expect, it, vi } from "vitest";
import { defined } from "../defined";
import { architectureFigure, type LayerInfo } from "../../lib/figures/architecture";
import { figureHtml, rendererStats, saveFig } from "../../lib/figures/render/chromium";
import { inTslabKernel } from "../../lib/io/tslab";
import { imageFigure, imageGridFigure } from "../../lib/figures/images";
import { learningCurvesFigure } from "../../lib/figures/curves";
import { predictionsFigure } from "../../lib/figures/predictions";
import { renderFigure } from "../../lib/figures/render/chromium";
import { showInline } from "../../lib/figures/render/inline";
import type { Figure } from "../../lib/figures/figure";

// Everything here is offline and browser-free: figure specs are plain data, and the renderer's
// argument checks run before any Chromium is launched (asserted via rendererStats at the end).

const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

/** A 28x28 image whose pixel value encodes its position, so row order can be checked. */
function rampImage(scale = 1): number[] {
  return Array.from({ length: 784 }, (_, i) => (i / 783) * scale);
}

type AnyRecord = Record<string, any>;
const layoutOf = (fig: Figure): AnyRecord => fig.layout as AnyRecord;
const traceOf = (fig: Figure, i: number): AnyRecord => fig.data[i] as AnyRecord;

/** Where a heatmap placed with x0/dx, y0/dy covers its axes (figure pixels for the multi-image figures). */
function extent(t: AnyRecord): { left: number; right: number; top: number; bottom: number } {
  const z = t.z as number[][];
  const cols = defined(z[0], "row 0").length;
  return { left: t.x0 - t.dx / 2, right: t.x0 + (cols - 0.5) * t.dx, top: t.y0 - t.dy / 2, bottom: t.y0 + (z.length - 0.5) * t.dy };
}

describe("imageFigure", () => {
  it("draws 784 pixels as one 28x28 heatmap with row 0 at the top", () => {
    const fig = imageFigure(rampImage());
    expect(fig.data).toHaveLength(1);
    const t = traceOf(fig, 0);
    expect(t.type).toBe("heatmap");
    expect(t.z).toHaveLength(28);
    expect(t.z[0]).toHaveLength(28);
    expect(t.z[0][0]).toBe(0);
    expect(t.z[27][27]).toBe(1);
    const y = layoutOf(fig).yaxis;
    expect(y.range[0]).toBeGreaterThan(y.range[1]); // reversed: row 0 at the top
  });

  it("uses the binary colormap (0 white, max black) without a colorbar and hides the axes", () => {
    const fig = imageFigure(rampImage());
    const t = traceOf(fig, 0);
    expect(t.colorscale).toEqual([
      [0, "white"],
      [1, "black"],
    ]);
    expect(t.showscale).toBe(false);
    expect(layoutOf(fig).xaxis.visible).toBe(false);
    expect(layoutOf(fig).yaxis.visible).toBe(false);
  });

  it("keeps pixels square by anchoring y's scale to x", () => {
    const y = layoutOf(imageFigure(rampImage())).yaxis;
    expect(y.scaleanchor).toBe("x");
    expect(y.scaleratio).toBe(1);
  });

  it.each([
    [1, 1],
    [255, 255],
  ])("sets zmax to %i for pixels up to %i", (scale, zmax) => {
    expect(traceOf(imageFigure(rampImage(scale)), 0).zmax).toBe(zmax);
  });

  it("puts the title option above the image", () => {
    const ann = layoutOf(imageFigure(rampImage(), { title: "Ankle boot" })).annotations;
    expect(ann.map((a: AnyRecord) => a.text)).toEqual(["Ankle boot"]);
  });

  it("accepts { data, shape } such as an NDArray of shape [28, 28]", () => {
    const fig = imageFigure({ data: new Float32Array(rampImage()), shape: [28, 28] });
    expect(traceOf(fig, 0).z).toHaveLength(28);
  });

  it("accepts a non-square image when given its shape", () => {
    const fig = imageFigure(new Uint8Array(6), { shape: [2, 3] });
    expect(traceOf(fig, 0).z).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("rejects 99 pixels without a shape, naming the count and 784", () => {
    expect(() => imageFigure(new Array(100).fill(0).slice(0, 99))).toThrow(/99 pixels.*784 = 28x28/);
  });

  it("rejects a shape that does not match the pixel count", () => {
    expect(() => imageFigure(new Uint8Array(784), { shape: [28, 27] })).toThrow(/784 pixels, expected 28x27 = 756/);
  });
});

describe("imageGridFigure", () => {
  const images = Array.from({ length: 40 }, () => rampImage(255));
  const titles = Array.from({ length: 40 }, (_, i) => defined(NAMES[i % 10], `class name ${i % 10}`));

  it("draws 40 images as 40 heatmaps on one shared pair of axes, with the class names as titles", () => {
    const fig = imageGridFigure(images, titles);
    expect(fig.data).toHaveLength(40);
    expect(fig.data.every((t) => t.type === "heatmap" && t.xaxis === "x" && t.yaxis === "y")).toBe(true);
    expect(Object.keys(layoutOf(fig)).filter((k) => /^[xy]axis\d/.test(k))).toEqual([]);
    expect(layoutOf(fig).annotations.map((a: AnyRecord) => a.text)).toEqual(titles);
  });

  it("is nCols*1.2 by nRows*1.2 inches at 100 px per inch (1200x480 for 4x10)", () => {
    const fig = imageGridFigure(images, titles, 4, 10);
    expect([fig.layout.width, fig.layout.height]).toEqual([1200, 480]);
  });

  it("measures its axes in figure pixels, y pointing down from the top edge", () => {
    const layout = layoutOf(imageGridFigure(images, titles, 4, 10));
    expect(layout.xaxis.range).toEqual([0, 1200]);
    expect(layout.yaxis.range).toEqual([480, 0]);
    expect(layout.margin).toMatchObject({ l: 0, r: 0, t: 0, b: 0 });
  });

  it("draws trace k from image k's pixels, row 0 at the top", () => {
    const distinct = Array.from({ length: 40 }, (_, k) => Array.from({ length: 784 }, (_, j) => (k * 784 + j) % 251));
    const fig = imageGridFigure(distinct, titles);
    fig.data.forEach((trace, k) => {
      const z = (trace as AnyRecord).z as number[][];
      expect([z.length, defined(z[0], "row 0").length]).toEqual([28, 28]);
      for (const [r, c] of [
        [0, 0],
        [3, 17],
        [27, 27],
      ] as const)
        expect(z[r]![c]).toBe(distinct[k]![r * 28 + c]);
    });
  });

  it("places the images in row-major order with square pixels, inside the figure and without overlap", () => {
    const fig = imageGridFigure(images, titles, 4, 10);
    const boxes = fig.data.map((t) => extent(t as AnyRecord));
    const [first, second, eleventh] = [boxes[0]!, boxes[1]!, boxes[10]!];
    expect(second.left).toBeGreaterThan(first.right); // image 2 is right of image 1
    expect(eleventh.top).toBeGreaterThan(first.bottom); // image 11 (row 2) is below image 1
    for (const [i, b] of boxes.entries()) {
      expect(b.right - b.left).toBeCloseTo(b.bottom - b.top, 9);
      expect(b.left).toBeGreaterThanOrEqual(0);
      expect(b.right).toBeLessThanOrEqual(1200);
      expect(b.bottom).toBeLessThanOrEqual(480);
      for (const other of boxes.slice(i + 1)) expect(b.right <= other.left || b.bottom <= other.top).toBe(true);
    }
  });

  it("sets each title centred just above its image", () => {
    const fig = imageGridFigure(images, titles, 4, 10);
    fig.data.forEach((trace, k) => {
      const box = extent(trace as AnyRecord);
      const title = layoutOf(fig).annotations[k];
      expect(title.x * 1200).toBeCloseTo((box.left + box.right) / 2, 6);
      expect((1 - title.y) * 480).toBeLessThanOrEqual(box.top); // paper y counts up from the bottom
      expect((1 - title.y) * 480).toBeGreaterThan(box.top - 10);
    });
  });

  it("names the image and the pixel value on hover", () => {
    const trace = traceOf(imageGridFigure(images, titles), 9);
    expect(trace.hovertemplate).toBe(`${titles[9]}: %{z:.3~g}<extra></extra>`);
  });

  it("keeps a title's %{...} literal on hover", () => {
    const trace = traceOf(imageGridFigure([rampImage()], ["100%{x}"], 1, 1), 0);
    expect(trace.hovertemplate).not.toContain("%{x}");
    expect(trace.hovertemplate).toContain("%{z:.3~g}");
  });

  it("gives a non-square image square pixels, centred in its square cell", () => {
    const fig = imageGridFigure({ data: new Float32Array(2 * 8), shape: [2, 2, 4] }, ["a", "b"], 1, 2);
    const [a, b] = fig.data.map((t) => extent(t as AnyRecord));
    const t = traceOf(fig, 0);
    expect(t.dx).toBe(t.dy);
    expect(a!.right - a!.left).toBeCloseTo(2 * (a!.bottom - a!.top), 9);
    expect(b!.left - a!.right).toBeGreaterThan(0);
  });

  it("takes one flat batch with shape [n, 28, 28]", () => {
    const data = new Uint8Array(40 * 784).fill(7);
    expect(imageGridFigure({ data, shape: [40, 28, 28] }, titles).data).toHaveLength(40);
  });

  it("takes one flat batch with shape [n, 784]", () => {
    const data = new Float32Array(3 * 784);
    expect(imageGridFigure({ data, shape: [3, 784] }, titles.slice(0, 3), 1, 3).data).toHaveLength(3);
  });

  it("draws only nRows*nCols images when given more", () => {
    expect(imageGridFigure(images, titles, 2, 3).data).toHaveLength(6);
  });

  it("rejects fewer titles than images", () => {
    expect(() => imageGridFigure(images, titles.slice(0, 3))).toThrow(/titles has 3 entries for 40 images/);
  });

  it("rejects a batch whose data does not match its shape", () => {
    expect(() => imageGridFigure({ data: new Uint8Array(100), shape: [2, 28, 28] }, titles)).toThrow(/100 values, expected 2x28x28 = 1568/);
  });

  it("rejects a tensor-like object, suggesting dataSync()", () => {
    const tensorLike = { shape: [2, 28, 28], data: () => Promise.resolve(new Float32Array(0)) };
    expect(() => imageGridFigure(tensorLike as never, titles)).toThrow(/dataSync\(\)/);
  });

  it("rejects nRows = 0", () => {
    expect(() => imageGridFigure(images, titles, 0, 10)).toThrow(/nRows must be a positive integer, got 0/);
  });
});

describe("learningCurvesFigure", () => {
  const history = {
    loss: [0.7, 0.5, 0.4],
    accuracy: [0.76, 0.83, 0.86],
    val_loss: [0.5, 0.45, 0.4],
    val_accuracy: [0.82, 0.84, 0.86],
  };

  it("draws one named line per history key, in key order", () => {
    const fig = learningCurvesFigure(history);
    expect(fig.data.map((t) => t.name)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    expect(fig.data.every((t) => t.type === "scatter" && t.mode === "lines")).toBe(true);
    expect(traceOf(fig, 2).y).toEqual(history.val_loss);
  });

  it("numbers epochs from 0 like the pandas plot, or from firstEpoch", () => {
    expect(traceOf(learningCurvesFigure(history), 0).x).toEqual([0, 1, 2]);
    expect(traceOf(learningCurvesFigure(history, { firstEpoch: 1 }), 0).x).toEqual([1, 2, 3]);
  });

  it("fixes y to 0..1 with a grid and a legend on an 8x5 inch figure", () => {
    const layout = layoutOf(learningCurvesFigure(history));
    expect(layout.yaxis.range).toEqual([0, 1]);
    expect(layout.yaxis.showgrid).toBe(true);
    expect(layout.xaxis.showgrid).toBe(true);
    expect(layout.showlegend).toBe(true);
    expect([layout.width, layout.height]).toEqual([800, 500]);
    expect(layout.xaxis.title.text).toBe("epoch");
  });

  it("accepts typed arrays as values", () => {
    expect(traceOf(learningCurvesFigure({ loss: new Float32Array([0.5, 0.25]) }), 0).y).toEqual([0.5, 0.25]);
  });

  it("rejects an empty history", () => {
    expect(() => learningCurvesFigure({})).toThrow(/history has no metrics/);
  });

  it("rejects a metric that is not an array, naming it", () => {
    expect(() => learningCurvesFigure({ loss: 3 as never })).toThrow(/history\.loss must be an array/);
  });
});

describe("architectureFigure", () => {
  const layers: LayerInfo[] = [
    { name: "flatten", type: "Flatten", outputShape: [null, 784], params: 0, inputShape: [null, 28, 28] },
    { name: "dense", type: "Dense", outputShape: [null, 300], params: 235_500 },
    { name: "dense_1", type: "Dense", outputShape: [null, 100], params: 30_100 },
    { name: "dense_2", type: "Dense", outputShape: [null, 10], params: 1_010 },
  ];
  const texts = (fig: Figure): string[] => layoutOf(fig).annotations.map((a: AnyRecord) => a.text);

  it("draws one box per layer and one arrow between consecutive layers, with no traces", () => {
    const fig = architectureFigure(layers);
    expect(fig.data).toHaveLength(0);
    expect(layoutOf(fig).shapes.filter((s: AnyRecord) => s.type === "rect")).toHaveLength(4);
    expect(layoutOf(fig).annotations.filter((a: AnyRecord) => a.showarrow)).toHaveLength(3);
  });

  it('labels boxes "name: Type" with Keras-style input and output shapes', () => {
    const t = texts(architectureFigure(layers));
    expect(t).toEqual(expect.arrayContaining(["flatten: Flatten", "dense_2: Dense", "(None, 28, 28)", "(None, 784)", "(None, 10)"]));
  });

  it("shows each layer's parameters and the total", () => {
    const t = texts(architectureFigure(layers));
    expect(t).toEqual(expect.arrayContaining(["235,500 params", "Total params: 266,610"]));
  });

  it("takes the input shape from the previous layer's output", () => {
    const t = texts(architectureFigure(layers));
    // (None, 300) is dense's output and dense_1's input
    expect(t.filter((s) => s === "(None, 300)")).toHaveLength(2);
  });

  it("rejects an empty layer list", () => {
    expect(() => architectureFigure([])).toThrow(/layers is empty/);
  });

  it("rejects a layer without outputShape, naming its index", () => {
    expect(() => architectureFigure([{ name: "x", type: "Dense" } as never])).toThrow(/layers\[0\] must be/);
  });
});

describe("predictionsFigure", () => {
  const images = [rampImage(), rampImage(), rampImage()];
  const predicted = ["Ankle boot", "Pullover", "Trouser"];
  const probs: [number[], number[], number[]] = [
    [0, 0, 0, 0, 0, 0.01, 0, 0.02, 0, 0.97],
    [0, 0, 0.99, 0, 0.01, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  ];

  it("titles the 3 images with the predicted class names on a 7.2x2.4 inch figure", () => {
    const fig = predictionsFigure(images, predicted);
    expect(fig.data).toHaveLength(3);
    expect(layoutOf(fig).annotations.map((a: AnyRecord) => a.text)).toEqual(predicted);
    expect([fig.layout.width, fig.layout.height]).toEqual([720, 240]);
  });

  it("draws the images on the shared pixel axes and each bar chart on axes of its own below them", () => {
    const fig = predictionsFigure(images, predicted, probs);
    const heatmaps = fig.data.filter((t) => t.type === "heatmap") as AnyRecord[];
    const bars = fig.data.filter((t) => t.type === "bar") as AnyRecord[];
    expect(heatmaps.map((t) => [t.xaxis, t.yaxis])).toEqual([
      ["x", "y"],
      ["x", "y"],
      ["x", "y"],
    ]);
    expect(bars.map((t) => [t.xaxis, t.yaxis])).toEqual([
      ["x2", "y2"],
      ["x3", "y3"],
      ["x4", "y4"],
    ]);
    const layout = layoutOf(fig);
    expect([layout.height, layout.yaxis.range]).toEqual([500, [500, 0]]); // 2.4 inches of images, 2.6 of bars
    const imageBottom = Math.max(...heatmaps.map((t) => extent(t).bottom));
    expect(imageBottom).toBeLessThanOrEqual(240); // the image row is the top 2.4 inches
    expect((1 - layout.yaxis2.domain[1]) * 500).toBeGreaterThan(imageBottom); // paper fractions count up
  });

  it("puts image k's own pixels in trace k, hovering with its predicted name", () => {
    const distinct = [0, 1, 2].map((k) => Array.from({ length: 784 }, (_, j) => (j + 100 * k) % 256));
    const fig = predictionsFigure(distinct, predicted);
    fig.data.forEach((t, k) => {
      expect((t as AnyRecord).z[5][9]).toBe(distinct[k]![5 * 28 + 9]);
      expect((t as AnyRecord).hovertemplate).toContain(predicted[k]);
    });
  });

  it("adds one probability bar chart per image over the class names", () => {
    const fig = predictionsFigure(images, predicted, probs);
    const bars = fig.data.filter((t) => t.type === "bar") as AnyRecord[];
    expect(bars).toHaveLength(3);
    const first = defined(bars[0], "the first bar chart");
    expect(first.x).toEqual(NAMES);
    expect(first.y).toEqual(probs[0]);
    expect(layoutOf(fig)[first.yaxis.replace("y", "yaxis")].range).toEqual([0, 1]);
  });

  it("highlights the most probable class's bar", () => {
    const bar = predictionsFigure(images, predicted, probs).data.find((t) => t.type === "bar") as AnyRecord;
    const colors: string[] = bar.marker.color;
    expect(colors.filter((c) => c === colors[9])).toHaveLength(1);
  });

  it("marks a wrong prediction with the true name", () => {
    const fig = predictionsFigure(images, predicted, undefined, { trueNames: ["Ankle boot", "T-shirt/top", "Trouser"] });
    expect(layoutOf(fig).annotations[1].text).toBe("Pullover (true: T-shirt/top)");
  });

  it("rejects a names list of the wrong length", () => {
    expect(() => predictionsFigure(images, predicted.slice(0, 2))).toThrow(/predictedNames has 2 entries for 3 images/);
  });

  it("rejects a probability row of the wrong length", () => {
    expect(() => predictionsFigure(images, predicted, [probs[0], probs[1], [0.5, 0.5]])).toThrow(
      /probabilities\[2\] has 2 values, expected one per class \(10\)/,
    );
  });
});

describe("rendering without a browser", () => {
  const fig = imageFigure(rampImage());
  const savedEnv = process.env.FASHION_ANN_CHROMIUM;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.FASHION_ANN_CHROMIUM;
    else process.env.FASHION_ANN_CHROMIUM = savedEnv;
  });

  it("writes HTML that embeds plotly.js and the figure, with no script-closing tag inside the data", () => {
    const html = figureHtml(imageGridFigure([rampImage()], ["</script><b>x"], 1, 1));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("Plotly.newPlot");
    expect(html.length).toBeGreaterThan(1_000_000); // plotly.min.js is inlined, not linked
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('returns HTML from renderFigure({ format: "html" })', async () => {
    expect(await renderFigure(fig, { format: "html" })).toContain("Plotly.newPlot");
  });

  it("rejects an unknown format", async () => {
    await expect(renderFigure(fig, { format: "jpeg" as never })).rejects.toThrow(
      /format must be "png", "svg", "html" or "pdf", got "jpeg"/,
    );
  });

  it("rejects a scale of 0", async () => {
    await expect(renderFigure(fig, { scale: 0 })).rejects.toThrow(/scale must be a positive number, got 0/);
  });

  it("rejects something that is not a figure", async () => {
    await expect(renderFigure({} as Figure)).rejects.toThrow(/expects a figure \{ data/);
  });

  it("says how to install Chromium when it is missing", async () => {
    process.env.FASHION_ANN_CHROMIUM = "/nonexistent/chromium";
    await expect(renderFigure(fig)).rejects.toThrow(/Chromium not found at \/nonexistent\/chromium.*apt-get install chromium/);
  });

  it("rejects a figure name with a folder in it", async () => {
    await expect(saveFig(fig, "sub/dir", { dir: "/tmp" })).rejects.toThrow(/plain file name without folders, got "sub\/dir"/);
  });

  it("shows nothing outside a notebook and says so", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(inTslabKernel()).toBe(false);
    await showInline(fig);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/not running in a tslab notebook/));
    warn.mockRestore();
  });

  it("launched no browser for any of the above", () => {
    expect(rendererStats().launches).toBe(0);
  });
});

describe("learningCurvesFigure's epoch axis", () => {
  it("ticks whole epochs for a run of up to 10 epochs, and leaves longer runs to plotly", () => {
    const short = learningCurvesFigure({ loss: [0.9, 0.7], val_loss: [0.8, 0.75] });
    expect((short.layout.xaxis as { dtick?: number }).dtick).toBe(1);
    const long = learningCurvesFigure({ loss: Array.from({ length: 30 }, (_, i) => 1 / (i + 1)) });
    expect((long.layout.xaxis as { dtick?: number }).dtick).toBeUndefined();
  });

  it("marks the points of a one-epoch history, which would otherwise draw no line at all", () => {
    const one = learningCurvesFigure({ loss: [0.9], val_loss: [0.8] });
    expect(one.data.map((t) => (t as { mode?: string }).mode)).toEqual(["lines+markers", "lines+markers"]);
    const two = learningCurvesFigure({ loss: [0.9, 0.7] });
    expect(two.data.map((t) => (t as { mode?: string }).mode)).toEqual(["lines"]);
  });
});
