// Child-process entry of `fashion-ann bench --latency`: a notebook's first cells in a fresh process, each timed as
// the reader waits for it. Nothing of the library is imported at the top (types only), so the timed require is the
// import cell's whole cost. The parent sends a LatencySpec over IPC and gets back { seconds } or { error }.
import type { LatencySpec, LatencyWorkerReply } from "../bench/latency";
import type * as Chromium from "../figures/render/chromium";
import type * as Curves from "../figures/curves";
import type * as Images from "../figures/images";
import type * as Notebook from "../notebook/session";
import type * as Experiment from "../runs/experiment";
import { serveOneRequest } from "./ipc-worker";

/** The part of the public API (`fashion-ann`) the cells below call. */
type Library = Pick<typeof Notebook, "startNotebook"> &
  Pick<typeof Experiment, "loadData"> &
  Pick<typeof Images, "imageFigure" | "imageGridFigure"> &
  Pick<typeof Curves, "learningCurvesFigure"> &
  Pick<typeof Chromium, "saveFig" | "closeRenderer">;

const seconds = (from: number): number => (performance.now() - from) / 1000;

/** A figure cell as the notebooks write it: the inline PNG (showInline's render, scale 1), then saveFig's file. */
async function figureCell(
  render: typeof Chromium.renderFigure,
  lib: Library,
  fig: Parameters<typeof lib.saveFig>[0],
  name: string,
  dir: string,
) {
  await render(fig, { format: "png", scale: 1 });
  await lib.saveFig(fig, name, { dir });
}

/**
 * Notebook 02's grid: 40 28x28 images of 0..1 floats, 4x10 with class names. Each is a soft ellipse of its own size
 * on a blank background, like a garment: noise would make the PNGs far harder to compress than real images are.
 */
function gridOf40(lib: Library): ReturnType<Library["imageGridFigure"]> {
  const data = new Float32Array(40 * 784);
  for (let k = 0; k < 40; k++) {
    const [a, b] = [4 + (k % 10), 4 + ((k * 3) % 10)];
    for (let p = 0; p < 784; p++) {
      const [r, c] = [Math.floor(p / 28) - 13.5, (p % 28) - 13.5];
      data[k * 784 + p] = Math.max(0, 1 - (r * r) / (a * a) - (c * c) / (b * b));
    }
  }
  const names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
  return lib.imageGridFigure(
    { data, shape: [40, 28, 28] },
    Array.from({ length: 40 }, (_, i) => names[i % 10]!),
    4,
    10,
  );
}

async function measure(spec: LatencySpec): Promise<LatencyWorkerReply> {
  let t = performance.now();
  const lib = require(spec.library) as Library;
  const imported = seconds(t);
  t = performance.now();
  const { config } = await lib.startNotebook({}, spec.runDir);
  const started = seconds(t);
  t = performance.now();
  await lib.loadData(config);
  const loaded = seconds(t);
  // renderFigure is the renderer's public function behind showInline; required from the module the library loaded.
  const { renderFigure } = require(spec.renderer) as typeof Chromium;
  // Notebook 02's first figure (one 28x28 image), then 05's learning curves: synthetic data, no dataset needed.
  const image = lib.imageFigure(Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) / 255));
  const epochs = Array.from({ length: 30 }, (_, i) => i);
  const curves = lib.learningCurvesFigure({
    loss: epochs.map((e) => 0.7 / (1 + e / 5)),
    accuracy: epochs.map((e) => 0.95 - 0.2 / (1 + e / 5)),
    val_loss: epochs.map((e) => 0.75 / (1 + e / 6)),
    val_accuracy: epochs.map((e) => 0.93 - 0.2 / (1 + e / 6)),
  });
  t = performance.now();
  await figureCell(renderFigure, lib, image, "latency_first_figure", spec.figuresDir);
  const firstFigure = seconds(t);
  t = performance.now();
  await figureCell(renderFigure, lib, curves, "latency_later_figure", spec.figuresDir);
  const laterFigure = seconds(t);
  t = performance.now();
  // The spec is built inside the timed cell, as in notebook 02.
  await figureCell(renderFigure, lib, gridOf40(lib), "latency_later_grid", spec.figuresDir);
  const laterGridFigure = seconds(t);
  await lib.closeRenderer();
  return {
    seconds: {
      import: imported,
      startNotebook: started,
      importAndStart: imported + started,
      loadData: loaded,
      startWithData: imported + started + loaded,
      firstFigure,
      laterFigure,
      laterGridFigure,
    },
  };
}

if (require.main === module) serveOneRequest<LatencySpec, LatencyWorkerReply>("latency worker", measure);
