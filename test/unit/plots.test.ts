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

  it("draws 40 images on 40 separate axes with the class names as titles", () => {
    const fig = imageGridFigure(images, titles);
    expect(fig.data).toHaveLength(40);
    expect(new Set(fig.data.map((t) => (t as AnyRecord).xaxis)).size).toBe(40);
    expect(layoutOf(fig).annotations.map((a: AnyRecord) => a.text)).toEqual(titles);
  });

  it("is nCols*1.2 by nRows*1.2 inches at 100 px per inch (1200x480 for 4x10)", () => {
    const fig = imageGridFigure(images, titles, 4, 10);
    expect([fig.layout.width, fig.layout.height]).toEqual([1200, 480]);
  });

  it("reverses every y axis and anchors it to its own x axis", () => {
    const layout = layoutOf(imageGridFigure(images, titles));
    for (let i = 1; i <= 40; i++) {
      const suffix = i === 1 ? "" : String(i);
      const y = layout[`yaxis${suffix}`];
      expect(y.range[0]).toBeGreaterThan(y.range[1]);
      expect(y.scaleanchor).toBe(`x${suffix}`);
    }
  });

  it("places the images in row-major order without overlap", () => {
    const layout = layoutOf(imageGridFigure(images, titles, 4, 10));
    const x1 = layout.xaxis.domain;
    const x2 = layout.xaxis2.domain;
    const y11 = layout.yaxis11.domain;
    expect(x2[0]).toBeGreaterThan(x1[1]); // image 2 is right of image 1
    expect(layout.yaxis.domain[0]).toBeGreaterThan(y11[1]); // image 11 (row 2) is below image 1
    expect(
      Math.max(
        ...Object.keys(layout)
          .filter((k) => k.startsWith("xaxis"))
          .map((k) => layout[k].domain[1]),
      ),
    ).toBeLessThanOrEqual(1);
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
