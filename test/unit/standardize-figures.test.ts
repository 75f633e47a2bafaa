// A "standardize" run's images are (x - mean) / std per pixel: drawn as they are on the 0..255 colormap they came out
// almost white (issue 23). The run's figures draw the pixels again; a hand-passed standardized image gets its own range.
import { describe, expect, it } from "vitest";
import { CLASS_NAMES } from "../../lib/data/images";
import { type FashionMnistSplits, splitAndScale } from "../../lib/data/split";
import { imageFigure } from "../../lib/figures/images";
import { NDArray } from "../../lib/format/ndarray";
import { createModel } from "../../lib/model/factory";
import { standardize, unstandardize } from "../../lib/data/standardize";
import { tutorialFigures } from "../../lib/runs/experiment";
import { seededRandom } from "../../lib/train/shuffle";

/** 60 training and 10 test images of seeded bytes, split 10 for validation, scaled to 0..1. */
function splits(): FashionMnistSplits {
  const random = seededRandom(7);
  const bytes = (n: number) => Uint8Array.from({ length: n * 784 }, () => Math.floor(random() * 256));
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  return splitAndScale(
    {
      trainImages: new NDArray(bytes(60), [60, 28, 28]),
      trainLabels: new NDArray(labels(60), [60]),
      testImages: new NDArray(bytes(10), [10, 28, 28]),
      testLabels: new NDArray(labels(10), [10]),
      classNames: CLASS_NAMES,
    },
    10,
  );
}

type Heatmap = { z: number[][]; zmin: number; zmax: number };
const heatmaps = (fig: { data: unknown[] }): Heatmap[] => fig.data as Heatmap[];

describe("images of a standardized run", () => {
  it("unstandardize gives back the 0..1 pixels that standardize changed", () => {
    const scaled = splits();
    const standardized = splits();
    const s = standardize(standardized);
    expect(Math.min(...standardized.test.x.data)).toBeLessThan(0);
    const back = unstandardize(standardized.test.x, s);
    expect(back.shape).toEqual(scaled.test.x.shape);
    back.data.forEach((v, i) => expect(v).toBeCloseTo(scaled.test.x.data[i]!, 5));
    expect(unstandardize(scaled.test.x, null)).toBe(scaled.test.x);
  });

  it("tutorialFigures draws the grid, the first image and the predictions from the pixels, on 0..1", () => {
    const scaled = splits();
    const standardized = splits();
    const s = standardize(standardized);
    const model = createModel({ hiddenUnits: [8], learningRate: 0.01, seed: 1 });
    const history = { epoch: [0], history: { loss: [1], accuracy: [0.5] }, params: { epochs: 1, steps: 1, batchSize: 32, samples: 50 } };
    const figs = tutorialFigures(standardized, model, history, s);
    model.dispose();
    const expected = { fashion_mnist_plot: scaled.train.x, first_image: scaled.train.x, fashion_mnist_images_plot: scaled.test.x };
    for (const [name, source] of Object.entries(expected)) {
      const traces = heatmaps(figs[name]!);
      expect(traces.length, name).toBeGreaterThan(0);
      traces.forEach((t, k) => {
        expect([t.zmin, t.zmax], `${name} image ${k}`).toEqual([0, 1]);
        // Row 3 of image k, compared with the scaled pixels it came from.
        t.z[3]!.forEach((v, col) => expect(v).toBeCloseTo(source.data[k * 784 + 3 * 28 + col]!, 5));
      });
    }
  });

  it("imageFigure draws values that are not pixels (negative ones) from their own minimum to maximum", () => {
    const values = Array.from({ length: 784 }, (_, i) => -0.8 + (i / 783) * 4.6);
    const [trace] = heatmaps(imageFigure(values));
    expect(trace!.zmin).toBeCloseTo(-0.8, 6);
    expect(trace!.zmax).toBeCloseTo(3.8, 6);
  });
});
