import type { Images } from "../data/images";
import { baseLayout, FigureError, hiddenAxis, PX_PER_INCH, positiveInt, type Figure, type Layout, type Plot } from "./figure";
import { NO_MARGIN, pixelAxes, squareCells, toDomain, type PixelBox } from "./layout-grid";

/** A batch as one flat row-major buffer, shape [n, rows, cols] or [n, rows*cols] (square images), any numbers. */
type ImageBatch = Images<ArrayLike<number>>;

/** Several images: an array of flat row-major images, or one flat batch with its shape (e.g. `{ data: t.dataSync(), shape: t.shape }`). */
export type ImageInput = ArrayLike<number>[] | ImageBatch;

/** One grey-scale image with its size; `pixels` is row-major, row 0 at the top. */
export interface GreyImage {
  pixels: ArrayLike<number>;
  rows: number;
  cols: number;
}

export interface ImageFigureOptions {
  /** [rows, cols]; default: a square image (28x28 for Fashion-MNIST, 784 pixels). */
  shape?: readonly [number, number];
  /** Title above the image, e.g. its class name. */
  title?: string;
  /** Figure width and height in pixels; default 400. */
  sizePx?: number;
}

/** matplotlib's "binary" colormap: 0 is white, the maximum is black. */
export const BINARY_COLORSCALE: Array<[number, string]> = [
  [0, "white"],
  [1, "black"],
];

function squareSide(length: number, what: string): number {
  const side = Math.round(Math.sqrt(length));
  if (length === 0 || side * side !== length) {
    throw new FigureError(`${what} has ${length} pixels, expected a square image (784 = 28x28); pass its shape for other sizes`);
  }
  return side;
}

/** Checks an image's size and reads its [rows, cols], inferring a square shape when none is given. */
export function toGreyImage(pixels: ArrayLike<number>, shape?: readonly [number, number], what = "image"): GreyImage {
  if (pixels == null || typeof pixels.length !== "number") {
    throw new FigureError(`${what} must be an array of pixel values, got ${typeof pixels}`);
  }
  if (shape) {
    const [rows, cols] = shape;
    if (rows * cols !== pixels.length) {
      throw new FigureError(`${what} has ${pixels.length} pixels, expected ${rows}x${cols} = ${rows * cols}`);
    }
    return { pixels, rows, cols };
  }
  const side = squareSide(pixels.length, what);
  return { pixels, rows: side, cols: side };
}

function slice(data: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  const maybeTyped = data as ArrayLike<number> & { subarray?: (s: number, e: number) => ArrayLike<number> };
  return typeof maybeTyped.subarray === "function" ? maybeTyped.subarray(start, end) : Array.prototype.slice.call(data, start, end);
}

/** Splits `ImageInput` into single images, checking every size. */
export function toGreyImages(images: ImageInput): GreyImage[] {
  if (Array.isArray(images)) {
    const [firstImage] = images;
    if (firstImage === undefined) return [];
    const first = toGreyImage(firstImage, undefined, "images[0]");
    return images.map((img, i) => toGreyImage(img, [first.rows, first.cols], `images[${i}]`));
  }
  const batch = images as ImageBatch;
  if (
    batch == null ||
    typeof batch.data !== "object" ||
    batch.data === null ||
    typeof batch.data.length !== "number" ||
    !Array.isArray(batch.shape)
  ) {
    throw new FigureError(
      "images must be an array of flat images or { data, shape } with flat data (for a tensor t: { data: t.dataSync(), shape: t.shape })",
    );
  }
  const [n, rowsOrPixels, maybeCols] = batch.shape;
  let rows: number;
  let cols: number;
  if (batch.shape.length === 3) {
    [rows, cols] = [rowsOrPixels, maybeCols];
  } else if (batch.shape.length === 2) {
    rows = cols = squareSide(rowsOrPixels, "each image");
  } else {
    throw new FigureError(`images.shape must be [n, rows, cols] or [n, rows*cols], got [${batch.shape.join(", ")}]`);
  }
  const size = rows * cols;
  if (batch.data.length !== n * size) {
    throw new FigureError(`images.data has ${batch.data.length} values, expected ${batch.shape.join("x")} = ${n * size}`);
  }
  return Array.from({ length: n }, (_, i) => ({ pixels: slice(batch.data, i * size, (i + 1) * size), rows, cols }));
}

function isBatch(x: ArrayLike<number> | ImageBatch): x is ImageBatch {
  return x != null && typeof (x as ArrayLike<number>).length !== "number" && "data" in x && "shape" in x;
}

/** One image given with its shape, e.g. an NDArray of shape [28, 28] (or [1, 28, 28]). */
function singleImage(batch: ImageBatch): GreyImage {
  const shape = batch.shape.length === 3 && batch.shape[0] === 1 ? batch.shape.slice(1) : batch.shape;
  const [rows, cols] = shape;
  if (shape.length !== 2 || rows === undefined || cols === undefined) {
    throw new FigureError(`image shape must be [rows, cols], got [${batch.shape.join(", ")}]`);
  }
  return toGreyImage(batch.data, [rows, cols]);
}

/**
 * The colormap's [zmin, zmax]: 0..1 for scaled floats and 0..255 for bytes, so both show the same and a blank
 * (all-zero) image stays white. Values that are not pixels (negative ones, e.g. standardized images, about -2..4
 * with outliers past 100) are drawn from their own minimum to maximum: on 0..255 they would be almost white.
 */
function pixelRange(pixels: ArrayLike<number>): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min >= 0) return [0, max > 1 ? 255 : 1];
  return [min, max];
}

/** A heatmap trace drawing `img` on the axes (xRef, yRef) with the binary colormap. */
export function imageTrace(img: GreyImage, xRef = "x", yRef = "y"): Plot {
  const z: number[][] = [];
  for (let r = 0; r < img.rows; r++) {
    z.push(Array.from(slice(img.pixels, r * img.cols, (r + 1) * img.cols)));
  }
  const [zmin, zmax] = pixelRange(img.pixels);
  return {
    type: "heatmap",
    z,
    zmin,
    zmax,
    colorscale: BINARY_COLORSCALE,
    showscale: false,
    xaxis: xRef,
    yaxis: yRef,
    hovertemplate: "row %{y}, col %{x}: %{z}<extra></extra>",
  } as Plot;
}

/**
 * `img` as a heatmap on pixelAxes, as large as fits in `box` with square pixels, centred in it (a square image
 * fills a square box). Hovering shows `label` (e.g. the class name) and the pixel's value.
 */
export function placedImageTrace(img: GreyImage, box: PixelBox, label: string): Plot {
  const px = Math.min(box.width / img.cols, box.height / img.rows);
  const left = box.left + (box.width - px * img.cols) / 2;
  const top = box.top + (box.height - px * img.rows) / 2;
  return {
    ...imageTrace(img),
    // Brick centres: pixel (row r, col c) covers [left + c*px, left + (c+1)*px] x [top + r*px, top + (r+1)*px].
    x0: left + px / 2,
    dx: px,
    y0: top + px / 2,
    dy: px,
    hovertemplate: `${hoverText(label)}: %{z:.3~g}<extra></extra>`,
  } as Plot;
}

/** A label as literal hover text: plotly reads `%{...}` in a hovertemplate as a placeholder. */
function hoverText(label: string): string {
  return label.replace(/%\{/g, "%\u200b{");
}

/** The x and y axes of an image subplot: hidden, one unit per pixel, row 0 at the top, square pixels. */
export function imageAxes(
  img: GreyImage,
  xRef: string,
  domain?: { x: [number, number]; y: [number, number] },
): {
  x: Record<string, unknown>;
  y: Record<string, unknown>;
} {
  return {
    x: hiddenAxis({ range: [-0.5, img.cols - 0.5], autorange: false, constrain: "domain", ...(domain && { domain: domain.x }) }),
    // Reversed range: images index rows downwards, plotly's y axis points up.
    y: hiddenAxis({
      range: [img.rows - 0.5, -0.5],
      autorange: false,
      scaleanchor: xRef,
      scaleratio: 1,
      constrain: "domain",
      ...(domain && { domain: domain.y }),
    }),
  };
}

/** A subplot title above `box`: matplotlib's `plt.title(text, fontsize=12)`. */
export function titleAnnotation(text: string, box: PixelBox, figW: number, figH: number, gapPx = 4): Record<string, unknown> {
  return {
    text,
    xref: "paper",
    yref: "paper",
    x: (box.left + box.width / 2) / figW,
    y: 1 - (box.top - gapPx) / figH,
    xanchor: "center",
    yanchor: "bottom",
    showarrow: false,
    font: { size: 12 },
  };
}

/**
 * One grey-scale image like `plt.imshow(img, cmap="binary"); plt.axis("off")`.
 * @param pixels row-major values, 0..1 or 0..255 (28x28 = 784 for Fashion-MNIST), or `{ data, shape: [rows, cols] }`; 0 is drawn
 *   white. Other values (standardized ones) are drawn from their minimum (white) to their maximum (black).
 */
export function imageFigure(pixels: ArrayLike<number> | ImageBatch, opts: ImageFigureOptions = {}): Figure {
  const img = isBatch(pixels) ? singleImage(pixels) : toGreyImage(pixels, opts.shape);
  const size = opts.sizePx ?? 400;
  const titlePx = opts.title ? 30 : 0;
  const pad = 10;
  const side = size - 2 * pad - titlePx;
  const box: PixelBox = { left: (size - side) / 2, top: pad + titlePx, width: side, height: side };
  const axes = imageAxes(img, "x", toDomain(box, size, size));
  const layout = baseLayout(size, size, { margin: NO_MARGIN, xaxis: axes.x, yaxis: axes.y } as Partial<Layout>);
  if (opts.title) layout.annotations = [titleAnnotation(opts.title, box, size, size)];
  return { data: [imageTrace(img)], layout };
}

/**
 * The tutorial's grid of training images with their class names as titles (`figsize=(nCols*1.2, nRows*1.2)`).
 * @param images at most nRows*nCols are drawn, in row-major order; see `ImageInput` for the accepted forms.
 * @param titles one per drawn image, e.g. `labels.map(l => classNames[l])`.
 */
export function imageGridFigure(images: ImageInput, titles: readonly string[], nRows = 4, nCols = 10): Figure {
  positiveInt(nRows, "nRows");
  positiveInt(nCols, "nCols");
  const all = toGreyImages(images);
  const shown = all.slice(0, nRows * nCols);
  if (shown.length === 0) throw new FigureError("imageGridFigure: no images given, expected at least one");
  if (titles.length < shown.length) {
    throw new FigureError(`titles has ${titles.length} entries for ${shown.length} images; pass one title per image`);
  }
  const width = nCols * 1.2 * PX_PER_INCH;
  const height = nRows * 1.2 * PX_PER_INCH;
  const boxes = squareCells(nRows, nCols, { left: 0, top: 0, width, height }, { titlePx: 22, gapPx: 14 });
  // squareCells made nRows * nCols boxes, and at most that many are shown.
  const cells = shown.map((img, i) => ({ img, box: boxes[i] as PixelBox, title: titles[i] ?? "" }));
  return {
    data: cells.map((c) => placedImageTrace(c.img, c.box, c.title)),
    layout: baseLayout(width, height, {
      margin: NO_MARGIN,
      ...pixelAxes(width, height),
      annotations: cells.map((c) => titleAnnotation(c.title, c.box, width, height)),
    } as Partial<Layout>),
  };
}
