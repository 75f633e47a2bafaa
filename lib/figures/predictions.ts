import { CLASS_NAMES } from "../data/images";
import { axisNames, baseLayout, FigureError, PX_PER_INCH, type Figure, type Layout, type Plot } from "./figure";
import { placedImageTrace, titleAnnotation, toGreyImages, type GreyImage, type ImageInput } from "./images";
import { NO_MARGIN, pixelAxes, squareCells, toDomain, type PixelBox } from "./layout-grid";

export interface PredictionsOptions {
  /** Names of the probability columns; default the ten Fashion-MNIST classes. */
  classNames?: readonly string[];
  /** True class names; a wrong prediction's title is drawn in red with the true name after it. */
  trueNames?: readonly string[];
}

const COL_W = 2.4 * PX_PER_INCH; // the tutorial's figsize=(7.2, 2.4) for three images
const IMAGE_ROW_H = 2.4 * PX_PER_INCH;
const BAR_ROW_H = 2.6 * PX_PER_INCH;
const BAR_LEFT = 42; // room for the y tick labels
const BAR_BOTTOM = 78; // room for class names written vertically

function argmax(values: readonly number[]): number {
  let best = 0;
  let bestValue = values[0];
  values.forEach((v, i) => {
    if (bestValue === undefined || v > bestValue) [best, bestValue] = [i, v];
  });
  return best;
}

/**
 * The tutorial's figure of new images titled with their predicted class names (`figsize=(7.2, 2.4)` for 3),
 * optionally with each image's class probabilities as bars below it (the predicted class highlighted).
 * @param images the images that were classified (e.g. the first 3 test images), 0..1 or 0..255.
 * @param predictedNames one class name per image.
 * @param probabilities one row of class probabilities per image (softmax output), summing to ~1.
 */
export function predictionsFigure(
  images: ImageInput,
  predictedNames: readonly string[],
  probabilities?: readonly (readonly number[])[],
  opts: PredictionsOptions = {},
): Figure {
  const imgs = toGreyImages(images);
  const classNames = opts.classNames ?? CLASS_NAMES;
  checkInputs(imgs.length, predictedNames, probabilities, opts.trueNames, classNames);
  const width = imgs.length * COL_W;
  const height = IMAGE_ROW_H + (probabilities ? BAR_ROW_H : 0);
  const top = imageRow(imgs, predictedNames, opts.trueNames, width, height);
  const data: Plot[] = [...top.data];
  const layout: Record<string, unknown> = {
    ...baseLayout(width, height),
    margin: NO_MARGIN,
    ...pixelAxes(width, height),
    annotations: top.annotations,
  };
  probabilities?.forEach((row, i) => {
    const bars = probabilityBars(row, classNames, i, width, height);
    data.push(bars.trace);
    Object.assign(layout, bars.axes);
  });
  return { data, layout: layout as Partial<Layout> };
}

/** One name per image, one row of one probability per class per image: anything else is a FigureError naming it. */
function checkInputs(
  n: number,
  predictedNames: readonly string[],
  probabilities: readonly (readonly number[])[] | undefined,
  trueNames: readonly string[] | undefined,
  classNames: readonly string[],
): void {
  if (n === 0) throw new FigureError("predictionsFigure: no images given, expected at least one");
  if (predictedNames.length !== n) {
    throw new FigureError(`predictedNames has ${predictedNames.length} entries for ${n} images; pass one name per image`);
  }
  if (trueNames && trueNames.length !== n) {
    throw new FigureError(`trueNames has ${trueNames.length} entries for ${n} images; pass one name per image`);
  }
  if (!probabilities) return;
  if (probabilities.length !== n) {
    throw new FigureError(`probabilities has ${probabilities.length} rows for ${n} images; pass one row per image`);
  }
  probabilities.forEach((row, i) => {
    if (row.length !== classNames.length) {
      throw new FigureError(
        `probabilities[${i}] has ${row.length} values, expected one per class (${classNames.length}); pass opts.classNames for other classes`,
      );
    }
  });
}

/** The top row: each image on the shared pixel axes under its predicted name (red, with the true name, when wrong). */
function imageRow(
  imgs: readonly GreyImage[],
  predictedNames: readonly string[],
  trueNames: readonly string[] | undefined,
  width: number,
  height: number,
): { data: Plot[]; annotations: Record<string, unknown>[] } {
  const boxes = squareCells(1, imgs.length, { left: 0, top: 0, width, height: IMAGE_ROW_H }, { titlePx: 26, gapPx: 20 });
  const data: Plot[] = [];
  const annotations: Record<string, unknown>[] = [];
  imgs.forEach((img, i) => {
    const box = boxes[i] as PixelBox; // squareCells made one box per image
    const wrong = trueNames !== undefined && trueNames[i] !== predictedNames[i];
    const text = wrong ? `${predictedNames[i]} (true: ${trueNames?.[i]})` : (predictedNames[i] ?? "");
    data.push(placedImageTrace(img, box, text));
    const title = titleAnnotation(text, box, width, height);
    if (wrong) title.font = { size: 12, color: "#d62728" };
    annotations.push(title);
  });
  return { data, annotations };
}

const BAR_TICKS = {
  ticks: "outside",
  ticklen: 3,
  tickfont: { size: 9 },
  showline: true,
  mirror: true,
  linecolor: "black",
  zeroline: false,
  fixedrange: true,
};

/** Image `i`'s class probabilities as bars on their own axes below it, the most probable class in blue. */
function probabilityBars(
  row: readonly number[],
  classNames: readonly string[],
  i: number,
  width: number,
  height: number,
): { trace: Plot; axes: Record<string, unknown> } {
  const names = axisNames(1 + i); // axis 1 ("x", "y") holds the images
  const box: PixelBox = {
    left: i * COL_W + BAR_LEFT,
    top: IMAGE_ROW_H + 10,
    width: COL_W - BAR_LEFT - 12,
    height: BAR_ROW_H - 10 - BAR_BOTTOM,
  };
  const domain = toDomain(box, width, height);
  const best = argmax(row);
  const trace = {
    type: "bar",
    x: [...classNames],
    y: [...row],
    xaxis: names.xRef,
    yaxis: names.yRef,
    marker: { color: row.map((_, k) => (k === best ? "#1f77b4" : "#b0b0b0")) },
    hovertemplate: "%{x}: %{y:.3f}<extra></extra>",
  } as Plot;
  const axes = {
    [names.xKey]: { ...BAR_TICKS, domain: domain.x, anchor: names.yRef, tickangle: -90, automargin: false },
    [names.yKey]: {
      ...BAR_TICKS,
      domain: domain.y,
      anchor: names.xRef,
      range: [0, 1],
      autorange: false,
      tickvals: [0, 0.5, 1],
      showgrid: true,
      gridcolor: "#e0e0e0",
      automargin: false,
      ...(i === 0 && { title: { text: "probability", font: { size: 10 }, standoff: 4 } }),
    },
  };
  return { trace, axes };
}
