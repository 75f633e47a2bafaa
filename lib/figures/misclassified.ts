import { CLASS_NAMES, type Images } from "../data/images";
import { baseLayout, FigureError, PX_PER_INCH, positiveInt, type Figure, type Layout, type Plot } from "./figure";
import { placedImageTrace, titleAnnotation, toGreyImages, type ImageInput } from "./images";
import { NO_MARGIN, pixelAxes, squareCells } from "./layout-grid";

/** One wrong prediction to draw; `misclassified(...)` from the metrics module returns these. */
export interface MisclassifiedCase {
  trueClass: number;
  predictedClass: number;
  /** The probability the model gave its prediction (0..1). */
  probability: number;
}

export interface MisclassifiedOptions {
  /** Class names indexed by class; default the ten Fashion-MNIST classes. */
  classNames?: readonly string[];
  /** Images per row; default 6. */
  nCols?: number;
  /** Figure title; default "Misclassified test images". "" for none. */
  title?: string;
}

const CELL = 1.6 * PX_PER_INCH; // wide enough for "T-shirt/top 0.97" at 11 px
const TITLE_PX = 34; // two lines: prediction, then the true class
const RED = "#d62728";

/**
 * The rows `indices` of an image batch (e.g. the test set `test.x`), as a new batch: the images to pass to
 * misclassifiedFigure or predictionsFigure.
 */
export function selectImages(batch: Images<ArrayLike<number>>, indices: readonly number[]): Images<ArrayLike<number>> {
  const n = batch.shape[0] ?? 0;
  const size = n === 0 ? 0 : batch.data.length / n;
  const out = new Float32Array(indices.length * size);
  indices.forEach((idx, i) => {
    if (!Number.isInteger(idx) || idx < 0 || idx >= n) throw new FigureError(`image index ${idx} is outside 0..${n - 1}`);
    for (let j = 0; j < size; j++) out[i * size + j] = batch.data[idx * size + j]!;
  });
  return { data: out, shape: [indices.length, ...batch.shape.slice(1)] };
}

/**
 * A gallery of wrongly classified images, each titled with its predicted class and probability (red) over
 * its true class: what the model got wrong and how sure it was.
 * @param images the misclassified images, one per case (see selectImages), 0..1 or 0..255.
 * @param cases true class, predicted class and the prediction's probability of each image, in the same order.
 */
export function misclassifiedFigure(images: ImageInput, cases: readonly MisclassifiedCase[], opts: MisclassifiedOptions = {}): Figure {
  const imgs = toGreyImages(images);
  if (imgs.length === 0)
    throw new FigureError("misclassifiedFigure: no images given, expected at least one (a perfect model has none to show)");
  if (cases.length !== imgs.length) {
    throw new FigureError(
      `cases has ${cases.length} entries for ${imgs.length} images; pass one { trueClass, predictedClass, probability } per image`,
    );
  }
  const names = opts.classNames ?? CLASS_NAMES;
  const nameOf = (c: number, what: string): string => {
    const name = names[c];
    if (name === undefined) throw new FigureError(`${what} ${c} has no class name; expected 0..${names.length - 1} (pass opts.classNames)`);
    return name;
  };
  const nCols = Math.min(positiveInt(opts.nCols ?? 6, "nCols"), imgs.length);
  const nRows = Math.ceil(imgs.length / nCols);
  const title = opts.title ?? "Misclassified test images";
  const headPx = title ? 36 : 0;
  const width = nCols * CELL;
  const height = headPx + nRows * (CELL + 10);
  const boxes = squareCells(nRows, nCols, { left: 0, top: headPx, width, height: height - headPx }, { titlePx: TITLE_PX, gapPx: 18 });
  const data: Plot[] = [];
  const annotations: Record<string, unknown>[] = [];
  if (title) {
    annotations.push({
      text: title,
      xref: "paper",
      yref: "paper",
      x: 0.5,
      y: 1 - 8 / height,
      xanchor: "center",
      yanchor: "top",
      showarrow: false,
      font: { size: 14 },
    });
  }
  imgs.forEach((img, i) => {
    const c = cases[i]!;
    const predicted = `${nameOf(c.predictedClass, "predictedClass")} ${c.probability.toFixed(2)}`;
    const trueName = nameOf(c.trueClass, "trueClass");
    data.push(placedImageTrace(img, boxes[i]!, `${predicted} (true: ${trueName})`));
    const label = `<span style="color:${RED}">${predicted}</span><br>true: ${trueName}`;
    annotations.push({ ...titleAnnotation(label, boxes[i]!, width, height, 2), font: { size: 11 } });
  });
  return { data, layout: baseLayout(width, height, { margin: NO_MARGIN, ...pixelAxes(width, height), annotations } as Partial<Layout>) };
}
