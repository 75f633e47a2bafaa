import type * as tf from "@tensorflow/tfjs";
import { pythonShape } from "../format/shape";
import { UserError } from "../errors/user-error";

/**
 * `model.summary()` as Keras 2.11-2.12 prints it (tf.keras `keras/utils/layer_utils.py`
 * `print_summary`, the format in Géron's 3rd edition): line length 65, columns ending at
 * [.45, .85, 1] of it, a line of 65 spaces after every layer, and parameter totals without the
 * "(1.02 MB)" sizes that Keras 2.13 added. tfjs's own `model.summary()` differs (column widths,
 * no model name, no blank lines), hence this port.
 */

/** A layer's output shape; `null` is the batch axis (Keras prints it as `None`). */
export type Shape = (number | null)[];

export interface SummaryOptions {
  /** Name in the `Model: "..."` header. tfjs calls the first model "sequential_1"; Keras says "sequential". */
  name?: string;
  /** Total characters per line (Keras: 65 for sequential-like models, 98 otherwise). */
  lineLength?: number;
  /** Right edge of each column, as fractions of lineLength (<= 1) or absolute character positions. */
  positions?: number[];
  /** Add Keras's "Trainable" column (Y/N), 11 characters wide. */
  showTrainable?: boolean;
  /** Called with each line as it is produced, like Keras's `print_fn`. */
  printFn?: (line: string) => void;
}

/** One row of the layer table, for figures and tests. */
export interface LayerRow {
  name: string;
  /** Keras class name, e.g. "Dense". */
  type: string;
  /** The (first) output's shape, batch axis first as `null`. */
  outputShape: Shape;
  /** Every output's shape (one entry for ordinary layers). */
  outputShapes: Shape[];
  /** Number of weights (trainable and not); 0 for a layer that was never built. */
  params: number;
  trainable: boolean;
}

/** Thrown when the layout options cannot print a row (a column narrower than one character). */
export class SummaryError extends UserError {
  override name = "SummaryError";
}

/** Python's repr of a shape tuple, or of a list of them: `(None, 784)`, `(None,)`, `[(None, 2), (None, 3)]`. */
export function formatShape(shape: Shape | Shape[]): string {
  if (shape.length > 0 && Array.isArray(shape[0])) {
    return `[${(shape as Shape[]).map((s) => formatShape(s)).join(", ")}]`;
  }
  return pythonShape(shape as Shape);
}

/** Name, type, output shape and parameter count of each layer, in model order. */
export function layerTable(model: tf.LayersModel): LayerRow[] {
  return model.layers.map((layer) => {
    const outputShapes = outputShapesOf(layer);
    return {
      name: layer.name,
      type: kerasClassName(layer),
      outputShape: outputShapes[0] ?? [],
      outputShapes,
      params: layer.built ? layer.countParams() : 0,
      trainable: layer.trainable,
    };
  });
}

/** The Keras 2 summary text, lines joined with "\n" (no trailing newline). */
export function modelSummary(model: tf.LayersModel, options: SummaryOptions = {}): string {
  const lines: string[] = [];
  const emit = (line: string) => {
    lines.push(line);
    options.printFn?.(line);
  };

  const sequentialLike = isSequentialLike(model);
  let lineLength: number;
  let positions: number[];
  const toDisplay = ["Layer (type)", "Output Shape", "Param #"];
  if (sequentialLike) {
    lineLength = options.lineLength ?? 65;
    positions = options.positions ?? [0.45, 0.85, 1.0];
  } else {
    lineLength = options.lineLength ?? 98;
    positions = options.positions ?? [0.33, 0.55, 0.67, 1.0];
    toDisplay.push("Connected to");
  }
  if (positions[positions.length - 1]! <= 1) positions = positions.map((p) => Math.trunc(lineLength * p));
  if (options.showTrainable) {
    lineLength += 11;
    positions = [...positions, lineLength];
    toDisplay.push("Trainable");
  }
  const relevantNodes = sequentialLike ? [] : Object.values(containerNodesByDepth(model)).flat();

  emit(`Model: "${options.name ?? model.name}"`);
  emit("_".repeat(lineLength));
  printRow(toDisplay, positions, emit);
  emit("=".repeat(lineLength));

  for (const layer of model.layers) {
    const params = layer.built ? String(layer.countParams()) : "0 (unused)";
    const fields = [`${layer.name} (${kerasClassName(layer)})`, outputShapeText(layer), params];
    if (!sequentialLike) fields.push(pythonList(connectionsOf(layer, relevantNodes)));
    if (options.showTrainable) fields.push(layer.trainable ? "Y" : "N");
    printRow(fields, positions, emit);
    // Keras prints a line of spaces, not an empty line, after every top-level layer
    emit(" ".repeat(lineLength));
  }
  emit("=".repeat(lineLength));

  const trainable = countWeights(model.trainableWeights);
  const nonTrainable = countWeights(model.nonTrainableWeights);
  emit(`Total params: ${thousands(trainable + nonTrainable)}`);
  emit(`Trainable params: ${thousands(trainable)}`);
  emit(`Non-trainable params: ${thousands(nonTrainable)}`);
  emit("_".repeat(lineLength));
  return lines.join("\n");
}

/**
 * Keras's `print_row`: each column is cut to its width less two spaces of gutter (none for the
 * last), preferably just after a "),", "},", "]," or "'," so tuples and lists break cleanly, and
 * whatever is left over continues on further lines.
 */
function printRow(fields: string[], positions: number[], emit: (line: string) => void): void {
  const left = [...fields];
  while (left.some((s) => s.length > 0)) {
    const before = left.join("\u0000");
    let line = "";
    for (let col = 0; col < left.length; col++) {
      const startPos = col > 0 ? positions[col - 1]! : 0;
      const endPos = positions[col]!;
      const space = col !== positions.length - 1 ? 2 : 0;
      let cutoff = endPos - startPos - space;
      // JS slice treats a negative end like Python's s[:cutoff], which Keras relies on implicitly
      let fit = left[col]!.slice(0, cutoff);
      const candidates = ["),", "},", "],", "',"].filter((x) => fit.indexOf(x) >= 0).map((x) => fit.indexOf(x) + x.length);
      if (candidates.length > 0) {
        cutoff = Math.min(...candidates);
        fit = fit.slice(0, cutoff);
      }
      if (col === 0) line += " ";
      line += fit;
      line += " ".repeat(space);
      left[col] = left[col]!.slice(cutoff);
      line += " ".repeat(Math.max(0, positions[col]! - line.length));
    }
    emit(line);
    if (left.join("\u0000") === before) {
      throw new SummaryError(
        `positions [${positions.join(", ")}] leave no room to print "${left.find((s) => s)}"; widen lineLength or the columns`,
      );
    }
  }
}

function isSequentialLike(model: tf.LayersModel): boolean {
  if (model.getClassName() === "Sequential") return true;
  // Same test as Keras: one node per depth, each with a single input, and no shared layers.
  const nodes: unknown[] = [];
  for (const depthNodes of Object.values(containerNodesByDepth(model))) {
    if (depthNodes.length > 1 || (depthNodes.length === 1 && depthNodes[0]!.inboundLayers.length > 1)) return false;
    nodes.push(...depthNodes);
  }
  for (const layer of model.layers) {
    const inModel = layer.inboundNodes.filter((n) => nodes.includes(n));
    if (inModel.length > 1) return false;
  }
  return true;
}

type GraphNode = tf.layers.Layer["inboundNodes"][number];

function containerNodesByDepth(model: tf.LayersModel): Record<string, GraphNode[]> {
  return (model as unknown as { nodesByDepth?: Record<string, GraphNode[]> }).nodesByDepth ?? {};
}

function connectionsOf(layer: tf.layers.Layer, relevantNodes: GraphNode[]): string[] {
  const out: string[] = [];
  for (const node of layer.inboundNodes) {
    if (relevantNodes.length > 0 && !relevantNodes.includes(node)) continue;
    node.inboundLayers.forEach((inbound, i) => {
      out.push(`${inbound.name}[${node.nodeIndices[i]}][${node.tensorIndices[i]}]`);
    });
  }
  return out;
}

function pythonList(items: string[]): string {
  return `[${items.map((s) => `'${s}'`).join(", ")}]`;
}

/** tfjs calls a functional model's class "Model"; Keras 2 calls it "Functional". */
function kerasClassName(layer: tf.layers.Layer): string {
  const name = layer.getClassName();
  return name === "Model" ? "Functional" : name;
}

function outputShapesOf(layer: tf.layers.Layer): Shape[] {
  let shape: Shape | Shape[];
  try {
    shape = layer.outputShape as Shape | Shape[];
  } catch {
    return [];
  }
  return shape.length > 0 && Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape];
}

function outputShapeText(layer: tf.layers.Layer): string {
  let shape: Shape | Shape[];
  try {
    shape = layer.outputShape as Shape | Shape[];
  } catch {
    // Keras says "multiple" when a layer has been called on inputs of different shapes
    return "multiple";
  }
  // Keras 2's InputLayer reports its output shape as a one-element list: [(None, 28, 28)]
  if (layer.getClassName() === "InputLayer" && !(shape.length > 0 && Array.isArray(shape[0]))) {
    return formatShape([shape as Shape]);
  }
  return formatShape(shape);
}

/** Keras's count_params: each distinct variable once, an unknown (None) dimension counting as 0. */
function countWeights(weights: { id: number; shape: Shape }[]): number {
  const unique = new Map<number, Shape>();
  for (const w of weights) unique.set(w.id, w.shape);
  let total = 0;
  for (const shape of unique.values()) total += shape.reduce<number>((a, b) => a * (b ?? 0), 1);
  return total;
}

/** Python's `{:,}`: 266610 -> "266,610". */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
