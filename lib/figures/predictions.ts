import { CLASS_NAMES } from "../data/images";
import { axisNames, baseLayout, FigureError, PX_PER_INCH, type Figure, type Layout, type Plot } from "./figure";
import { addImageSubplot, titleAnnotation, toGreyImages, type ImageInput } from "./images";
import { NO_MARGIN, squareCells, toDomain, type PixelBox } from "./layout-grid";

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
  const n = imgs.length;
  if (n === 0) throw new FigureError("predictionsFigure: no images given, expected at least one");
  if (predictedNames.length !== n) {
    throw new FigureError(`predictedNames has ${predictedNames.length} entries for ${n} images; pass one name per image`);
  }
  if (opts.trueNames && opts.trueNames.length !== n) {
    throw new FigureError(`trueNames has ${opts.trueNames.length} entries for ${n} images; pass one name per image`);
  }
  const classNames = opts.classNames ?? CLASS_NAMES;
  if (probabilities) {
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
  const width = n * COL_W;
  const height = IMAGE_ROW_H + (probabilities ? BAR_ROW_H : 0);
  const imageBoxes = squareCells(1, n, { left: 0, top: 0, width, height: IMAGE_ROW_H }, { titlePx: 26, gapPx: 20 });
  const layout: Record<string, unknown> = { ...baseLayout(width, height), margin: NO_MARGIN };
  const data: Plot[] = [];
  const annotations: Record<string, unknown>[] = [];
  imgs.forEach((img, i) => {
    const box = imageBoxes[i] as PixelBox; // squareCells made one box per image
    addImageSubplot(layout, data, img, i, box, width, height);
    const wrong = opts.trueNames !== undefined && opts.trueNames[i] !== predictedNames[i];
    const title = titleAnnotation(
      wrong ? `${predictedNames[i]} (true: ${opts.trueNames?.[i]})` : (predictedNames[i] ?? ""),
      box,
      width,
      height,
    );
    if (wrong) title.font = { size: 12, color: "#d62728" };
    annotations.push(title);
  });
  probabilities?.forEach((row, i) => {
    const names = axisNames(n + i);
    const box: PixelBox = {
      left: i * COL_W + BAR_LEFT,
      top: IMAGE_ROW_H + 10,
      width: COL_W - BAR_LEFT - 12,
      height: BAR_ROW_H - 10 - BAR_BOTTOM,
    };
    const domain = toDomain(box, width, height);
    const best = argmax(row);
    data.push({
      type: "bar",
      x: [...classNames],
      y: [...row],
      xaxis: names.xRef,
      yaxis: names.yRef,
      marker: { color: row.map((_, k) => (k === best ? "#1f77b4" : "#b0b0b0")) },
      hovertemplate: "%{x}: %{y:.3f}<extra></extra>",
    } as Plot);
    const tick = {
      ticks: "outside",
      ticklen: 3,
      tickfont: { size: 9 },
      showline: true,
      mirror: true,
      linecolor: "black",
      zeroline: false,
      fixedrange: true,
    };
    layout[names.xKey] = { ...tick, domain: domain.x, anchor: names.yRef, tickangle: -90, automargin: false };
    layout[names.yKey] = {
      ...tick,
      domain: domain.y,
      anchor: names.xRef,
      range: [0, 1],
      autorange: false,
      tickvals: [0, 0.5, 1],
      showgrid: true,
      gridcolor: "#e0e0e0",
      automargin: false,
      ...(i === 0 && { title: { text: "probability", font: { size: 10 }, standoff: 4 } }),
    };
  });
  layout.annotations = annotations;
  return { data, layout: layout as Partial<Layout> };
}
