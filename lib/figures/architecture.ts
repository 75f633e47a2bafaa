import { pythonShape } from "../format/shape";
import { baseLayout, FigureError, type Figure, type Layout } from "./figure";
import { NO_MARGIN, pixelAxes } from "./layout-grid";

/** One layer as `plot_model` shows it; a model module can build these from `model.layers`. */
export interface LayerInfo {
  /** Layer name, e.g. "dense_1". */
  name: string;
  /** Class name, e.g. "Dense", "Flatten", "InputLayer". */
  type: string;
  /** Output shape with null for the batch dimension, e.g. [null, 300]. */
  outputShape: readonly (number | null)[];
  /** Trainable plus non-trainable parameters. */
  params: number;
  /** Input shape; default the previous layer's output (the first layer shows none unless it is an InputLayer). */
  inputShape?: readonly (number | null)[];
}

export interface ArchitectureOptions {
  /** Title above the diagram, e.g. "Model: sequential"; default none, like plot_model. */
  title?: string;
}

const BOX_H = 52;
const GAP = 34;
const PAD = 20;
const FONT = 13;
const CHAR_W = 7.6; // DejaVu Sans at 13 px averages ~0.58 em per character
const CELL_PAD = 14;

function textWidth(s: string): number {
  return s.length * CHAR_W + 2 * CELL_PAD;
}

function checkLayer(layer: LayerInfo, i: number): void {
  if (!layer || typeof layer.name !== "string" || typeof layer.type !== "string" || !Array.isArray(layer.outputShape)) {
    throw new FigureError(`layers[${i}] must be { name, type, outputShape, params }, got ${JSON.stringify(layer)}`);
  }
}

interface Row {
  label: string;
  params: string;
  input?: string;
  output: string;
}

/** Column widths of the boxes: name and parameter count, the "input:/output:" keys, the shapes. */
interface Columns {
  nameW: number;
  keyW: number;
  shapeW: number;
  boxW: number;
}

/**
 * A vertical chain of layer boxes like Keras's `plot_model(model, show_shapes=True)`: each box reads
 * "name: Type | input: / output: | shapes", with its parameter count under the name, and arrows between boxes.
 * Drawn with layout shapes and annotations only, so `data` is empty.
 */
export function architectureFigure(layers: readonly LayerInfo[], opts: ArchitectureOptions = {}): Figure {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new FigureError("layers is empty; expected one { name, type, outputShape, params } per model layer");
  }
  layers.forEach(checkLayer);
  const rows = layerRows(layers);
  const cols = columns(rows);
  const titleH = opts.title ? 36 : 0;
  const footerH = 30;
  const width = Math.round(cols.boxW + 2 * PAD);
  const height = Math.round(titleH + PAD + layers.length * BOX_H + (layers.length - 1) * GAP + footerH + PAD / 2);
  const drawing: Drawing = { shapes: [], annotations: [] };
  rows.forEach((row, i) => drawLayerBox(drawing, row, cols, titleH + PAD + i * (BOX_H + GAP), i > 0));
  const totalParams = layers.reduce((s, l) => s + l.params, 0);
  addText(drawing, `Total params: ${totalParams.toLocaleString("en-US")}`, width / 2, height - PAD / 2 - footerH / 2, {
    font: { size: FONT - 1, color: "#333333" },
  });
  // Axes in figure pixels with y pointing down, so boxes are placed like on a page.
  const layout = baseLayout(width, height, {
    margin: NO_MARGIN,
    ...pixelAxes(width, height),
    ...drawing,
    ...(opts.title && { title: { text: opts.title, x: 0.5, xanchor: "center", y: 1 - 18 / height, yanchor: "middle" } }),
  } as Partial<Layout>);
  return { data: [], layout };
}

/** What each box shows; a layer's input is its own inputShape, else the previous layer's output. */
function layerRows(layers: readonly LayerInfo[]): Row[] {
  return layers.map((l, i) => {
    const input = l.inputShape ?? (i > 0 ? layers[i - 1]?.outputShape : l.type === "InputLayer" ? l.outputShape : undefined);
    return {
      label: `${l.name}: ${l.type}`,
      params: `${l.params.toLocaleString("en-US")} params`,
      input: input && pythonShape(input),
      output: pythonShape(l.outputShape),
    };
  });
}

/** Every box has the same columns, each as wide as its longest text. */
function columns(rows: readonly Row[]): Columns {
  const nameW = Math.max(...rows.flatMap((r) => [textWidth(r.label), textWidth(r.params)]));
  const keyW = textWidth("output:");
  const shapeW = Math.max(...rows.flatMap((r) => [textWidth(r.output), textWidth(r.input ?? "")]));
  return { nameW, keyW, shapeW, boxW: nameW + keyW + shapeW };
}

interface Drawing {
  shapes: Record<string, unknown>[];
  annotations: Record<string, unknown>[];
}

const LINE = { color: "black", width: 1 };

function addText(drawing: Drawing, t: string, x: number, y: number, extra: Record<string, unknown> = {}): void {
  drawing.annotations.push({ text: t, x, y, xref: "x", yref: "y", showarrow: false, font: { size: FONT }, ...extra });
}

/** One layer's box with its top edge at `y0`, and the arrow into it from the box above when `arrow`. */
function drawLayerBox(drawing: Drawing, row: Row, cols: Columns, y0: number, arrow: boolean): void {
  const x0 = PAD;
  const x1 = x0 + cols.nameW;
  const x2 = x1 + cols.keyW;
  const x3 = x0 + cols.boxW;
  const yMid = y0 + BOX_H / 2;
  const text = (t: string, x: number, y: number, extra?: Record<string, unknown>): void => addText(drawing, t, x, y, extra);
  drawing.shapes.push({
    type: "rect",
    xref: "x",
    yref: "y",
    x0,
    x1: x3,
    y0,
    y1: y0 + BOX_H,
    line: LINE,
    fillcolor: "white",
    layer: "below",
  });
  drawing.shapes.push({ type: "line", xref: "x", yref: "y", x0: x1, x1, y0, y1: y0 + BOX_H, line: LINE });
  drawing.shapes.push({ type: "line", xref: "x", yref: "y", x0: x2, x1: x2, y0, y1: y0 + BOX_H, line: LINE });
  text(row.label, (x0 + x1) / 2, yMid - 9);
  text(row.params, (x0 + x1) / 2, yMid + 10, { font: { size: FONT - 2, color: "#555555" } });
  if (row.input) {
    drawing.shapes.push({ type: "line", xref: "x", yref: "y", x0: x1, x1: x3, y0: yMid, y1: yMid, line: LINE });
    text("input:", (x1 + x2) / 2, y0 + BOX_H / 4);
    text("output:", (x1 + x2) / 2, y0 + (3 * BOX_H) / 4);
    text(row.input, (x2 + x3) / 2, y0 + BOX_H / 4);
    text(row.output, (x2 + x3) / 2, y0 + (3 * BOX_H) / 4);
  } else {
    text("output:", (x1 + x2) / 2, yMid);
    text(row.output, (x2 + x3) / 2, yMid);
  }
  if (arrow) {
    // From the bottom of the previous box to the top of this one.
    const x = x0 + cols.boxW / 2;
    drawing.annotations.push({
      text: "",
      x,
      y: y0,
      ax: x,
      ay: y0 - GAP,
      xref: "x",
      yref: "y",
      axref: "x",
      ayref: "y",
      showarrow: true,
      arrowhead: 2,
      arrowsize: 1.2,
      arrowwidth: 1.2,
      arrowcolor: "black",
    });
  }
}
