// The error analysis Keras's evaluate() leaves out: which classes are confused with which, and how well each class
// is found. Plain counting in JS: 10,000 labels take well under a millisecond, no tensors to dispose.
import type * as dfd from "danfojs-node";
import { lazyRequire } from "../io/lazy";
import { UserError } from "../errors/user-error";

// danfojs (and the tfjs it brings) loads only when a table is asked for, so figures and the CLI can use the counting alone.
const danfo = lazyRequire<typeof dfd>("danfojs-node");

/** Thrown for labels or matrices of the wrong size or kind; the message names the value and what was expected. */
class MetricsError extends UserError {
  override name = "MetricsError";
}

/**
 * A confusion matrix as sklearn's `confusion_matrix(y_true, y_pred)`: `counts[t][p]` is how many images of true
 * class `t` were predicted as class `p`. Rows are true classes, columns predicted ones, both in label order.
 */
export interface ConfusionMatrix {
  /** [numClasses][numClasses] image counts; row = true class, column = predicted class. */
  counts: number[][];
  /** One name per class, in label order (row and column labels). */
  classNames: readonly string[];
  /** Number of images counted (the sum of all cells). */
  total: number;
}

/** How to turn counts into rates, as sklearn's `normalize`: "true" divides each row by its total (recall on the diagonal), "pred" each column (precision), "all" by the grand total. */
export type ConfusionNormalization = "true" | "pred" | "all";

function checkLabel(value: number, i: number, what: string, numClasses: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
    throw new MetricsError(
      `${what}[${i}] = ${value} is not a class index in 0..${numClasses - 1}; pass class indices (e.g. predictClasses(probabilities)), not names or probabilities`,
    );
  }
  return value;
}

/**
 * Counts true class against predicted class.
 * @param yTrue true class indices, one per image (e.g. `test.y.data`, uint8 0..9).
 * @param yPred predicted class indices, same length (e.g. `predictClasses(predictProba(model, test.x))`).
 * @param classNames one name per class; its length sets the number of classes.
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classNames: readonly string[]): ConfusionMatrix {
  const k = classNames.length;
  if (k === 0) throw new MetricsError("classNames is empty; pass one name per class, e.g. CLASS_NAMES");
  if (yTrue.length !== yPred.length) {
    throw new MetricsError(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}; pass one prediction per true label`);
  }
  const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    counts[checkLabel(yTrue[i]!, i, "yTrue", k)]![checkLabel(yPred[i]!, i, "yPred", k)]!++;
  }
  return { counts, classNames: [...classNames], total: yTrue.length };
}

function checkSquare(counts: readonly (readonly number[])[]): number {
  const k = counts.length;
  counts.forEach((row, i) => {
    if (row.length !== k) throw new MetricsError(`confusion matrix row ${i} has ${row.length} cells, expected ${k} (a square matrix)`);
  });
  return k;
}

/** Rates from counts; a row (or column) with no images gives zeros rather than NaN, as sklearn does. */
export function normalizeConfusion(counts: readonly (readonly number[])[], mode: ConfusionNormalization): number[][] {
  const k = checkSquare(counts);
  const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = Array.from({ length: k }, (_, j) => counts.reduce((a, row) => a + row[j]!, 0));
  const total = rowSums.reduce((a, b) => a + b, 0);
  if (mode !== "true" && mode !== "pred" && mode !== "all") {
    throw new MetricsError(`normalize must be "true", "pred" or "all", got ${JSON.stringify(mode)}`);
  }
  return counts.map((row, i) =>
    row.map((c, j) => {
      const d = mode === "true" ? rowSums[i]! : mode === "pred" ? colSums[j]! : total;
      return d === 0 ? 0 : c / d;
    }),
  );
}

/** Precision, recall and F1 of one class, with its support (number of true images), as a row of sklearn's classification_report. */
export interface ClassScores {
  className: string;
  /** Of the images predicted as this class, the fraction that are: TP / (TP + FP); 0 if none was predicted. */
  precision: number;
  /** Of the images of this class, the fraction found: TP / (TP + FN); 0 if the class has no images. */
  recall: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
  /** Number of images whose true class this is. */
  support: number;
}

/** sklearn's classification_report as data: one row per class, accuracy, and the macro and support-weighted averages. */
export interface ClassificationReport {
  classes: ClassScores[];
  accuracy: number;
  macroAvg: Omit<ClassScores, "className">;
  weightedAvg: Omit<ClassScores, "className">;
  /** Total number of images. */
  support: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Per-class precision, recall and F1 from a confusion matrix (rows true, columns predicted). */
export function perClassScores(cm: ConfusionMatrix): ClassScores[] {
  const k = checkSquare(cm.counts);
  if (cm.classNames.length !== k) throw new MetricsError(`classNames has ${cm.classNames.length} names for a ${k}x${k} confusion matrix`);
  return cm.counts.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = cm.counts.reduce((a, r) => a + r[c]!, 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { className: cm.classNames[c]!, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
}

/** Per-class scores plus accuracy and averages, like `sklearn.metrics.classification_report(y_true, y_pred, output_dict=True)`. */
export function classificationReport(cm: ConfusionMatrix): ClassificationReport {
  const classes = perClassScores(cm);
  const support = classes.reduce((a, s) => a + s.support, 0);
  const correct = cm.counts.reduce((a, row, i) => a + row[i]!, 0);
  const avg = (weight: (s: ClassScores) => number, total: number): Omit<ClassScores, "className"> => ({
    precision: ratio(
      classes.reduce((a, s) => a + weight(s) * s.precision, 0),
      total,
    ),
    recall: ratio(
      classes.reduce((a, s) => a + weight(s) * s.recall, 0),
      total,
    ),
    f1: ratio(
      classes.reduce((a, s) => a + weight(s) * s.f1, 0),
      total,
    ),
    support,
  });
  return {
    classes,
    accuracy: ratio(correct, support),
    macroAvg: avg(() => 1, classes.length),
    weightedAvg: avg((s) => s.support, support),
    support,
  };
}

/** One printed row of the report; the accuracy row has no precision or recall (sklearn leaves them blank). */
export interface ReportRow {
  name: string;
  precision?: number;
  recall?: number;
  f1: number;
  support: number;
  /** The first row after the classes: printers put a blank line or a rule above it. */
  startsSummary?: boolean;
}

/**
 * The rows every printed form of the report shows, in sklearn's order: one per class, then "accuracy",
 * "macro avg" and "weighted avg". The text, DataFrame and HTML forms all format these.
 */
export function classificationReportRows(report: ClassificationReport): ReportRow[] {
  return [
    ...report.classes.map((s) => ({ name: s.className, precision: s.precision, recall: s.recall, f1: s.f1, support: s.support })),
    { name: "accuracy", f1: report.accuracy, support: report.support, startsSummary: true },
    { name: "macro avg", ...report.macroAvg },
    { name: "weighted avg", ...report.weightedAvg },
  ];
}

/** A score with `decimals` decimals, or blank where the report has none. */
export function formatScore(x: number | undefined, decimals: number): string {
  return x === undefined ? "" : x.toFixed(decimals);
}

/**
 * The report as a danfojs DataFrame laid out like sklearn's printed report: rows are the classes, then
 * "accuracy", "macro avg", "weighted avg"; columns precision, recall, f1-score, support. Scores are text with
 * `decimals` (default 3) decimals, so the accuracy row's precision and recall print blank (not NaN) as sklearn's
 * do; `classificationReport()` has the numbers. `df.print()` or `df.toString()` shows every row.
 */
export function classificationReportDataFrame(report: ClassificationReport, decimals = 3): dfd.DataFrame {
  const rows = classificationReportRows(report);
  const data = {
    precision: rows.map((r) => formatScore(r.precision, decimals)),
    recall: rows.map((r) => formatScore(r.recall, decimals)),
    "f1-score": rows.map((r) => formatScore(r.f1, decimals)),
    support: rows.map((r) => r.support),
  };
  const index = rows.map((r) => r.name);
  return new (danfo().DataFrame)(data, {
    index,
    config: { tableMaxRow: rows.length, tableDisplayConfig: columnWidths([...index, ""], 4) },
  });
}

/** danfojs prints the index 10 characters wide, wrapping "T-shirt/top"; widen it to the longest label, narrow the numbers. */
function columnWidths(indexLabels: readonly string[], nColumns: number, width = 9): { columns: Record<number, { width: number }> } {
  const columns: Record<number, { width: number }> = { 0: { width: Math.max(...indexLabels.map((l) => l.length), 5) } };
  for (let c = 1; c <= nColumns; c++) columns[c] = { width };
  return { columns };
}

/** sklearn's printed classification_report: fixed-width text, one line per class, then accuracy and the averages. */
export function formatClassificationReport(report: ClassificationReport, decimals = 2): string {
  const rows = classificationReportRows(report);
  const w = Math.max(...rows.map((r) => r.name.length));
  const col = (s: string | number): string => String(s).padStart(9);
  return [
    `${"".padStart(w)} ${col("precision")} ${col("recall")} ${col("f1-score")} ${col("support")}`,
    "",
    ...rows.flatMap((r) => [
      ...(r.startsSummary ? [""] : []),
      `${r.name.padStart(w)} ${col(formatScore(r.precision, decimals))} ${col(formatScore(r.recall, decimals))} ${col(formatScore(r.f1, decimals))} ${col(r.support)}`,
    ]),
  ].join("\n");
}

/** One off-diagonal cell of the confusion matrix: images of `trueName` predicted as `predictedName`. */
export interface ConfusedPair {
  trueClass: number;
  predictedClass: number;
  trueName: string;
  predictedName: string;
  count: number;
  /** count / number of images of the true class: the share of that class lost to this mistake. */
  rate: number;
}

/**
 * The `top` largest off-diagonal cells, most frequent first (ties: lower true class, then lower predicted class first).
 * Directed pairs: "Shirt predicted as T-shirt/top" and "T-shirt/top predicted as Shirt" are listed separately.
 */
export function mostConfusedPairs(cm: ConfusionMatrix, top = 5): ConfusedPair[] {
  if (!Number.isInteger(top) || top < 1) throw new MetricsError(`top must be a positive integer, got ${top}`);
  checkSquare(cm.counts);
  const pairs: ConfusedPair[] = [];
  cm.counts.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      if (p !== t && count > 0) {
        pairs.push({
          trueClass: t,
          predictedClass: p,
          trueName: cm.classNames[t]!,
          predictedName: cm.classNames[p]!,
          count,
          rate: ratio(count, support),
        });
      }
    });
  });
  pairs.sort((a, b) => b.count - a.count || a.trueClass - b.trueClass || a.predictedClass - b.predictedClass);
  return pairs.slice(0, top);
}

/** The pairs as a DataFrame (true, predicted, count, rate) for printing in a notebook. */
export function confusedPairsDataFrame(pairs: readonly ConfusedPair[], decimals = 3): dfd.DataFrame {
  return new (danfo().DataFrame)(
    {
      true: pairs.map((p) => p.trueName),
      predicted: pairs.map((p) => p.predictedName),
      count: pairs.map((p) => p.count),
      rate: pairs.map((p) => Number(p.rate.toFixed(decimals))),
    },
    {
      config: {
        tableMaxRow: Math.max(pairs.length, 10),
        tableDisplayConfig: { columns: { 0: { width: 3 }, 1: { width: 12 }, 2: { width: 12 }, 3: { width: 6 }, 4: { width: 6 } } },
      },
    },
  );
}

/** One wrongly classified image: where it is and what the model thought. */
export interface Misclassified {
  /** Row in the evaluated set (e.g. the test set). */
  index: number;
  trueClass: number;
  predictedClass: number;
  /** The probability the model gave its (wrong) prediction. */
  probability: number;
}

/**
 * The images whose predicted class differs from the true one, most confidently wrong first (the most
 * instructive mistakes: often label noise or genuinely ambiguous items).
 * @param probabilities one row of class probabilities per image (predictProba's output).
 * @param yTrue true class indices, one per row.
 * @param limit at most this many are returned; default all.
 */
export function misclassified(probabilities: readonly (readonly number[])[], yTrue: ArrayLike<number>, limit = Infinity): Misclassified[] {
  if (probabilities.length !== yTrue.length) {
    throw new MetricsError(`probabilities has ${probabilities.length} rows but yTrue has ${yTrue.length} labels; pass one row per image`);
  }
  const wrong: Misclassified[] = [];
  probabilities.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    const t = checkLabel(yTrue[i]!, i, "yTrue", row.length);
    if (best !== t) wrong.push({ index: i, trueClass: t, predictedClass: best, probability: row[best]! });
  });
  wrong.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return wrong.slice(0, limit);
}
