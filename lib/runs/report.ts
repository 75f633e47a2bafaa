// A run's report: one self-contained HTML file (figures inlined as SVG data URIs, no script, no network) and the
// same page printed to PDF by the shared headless Chromium. Everything comes from the run folder, plus the test
// set's predictions, which are computed here because the run folder keeps the model, not its outputs.
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { formatBackend, initBackend } from "../engine/backend";
import { evaluate } from "../results/evaluate";
import { unstandardize } from "../data/standardize";
import { loadDataWithStandardization } from "./experiment";
import {
  classificationReport,
  classificationReportRows,
  formatScore,
  type ReportRow,
  confusionMatrix,
  misclassified,
  mostConfusedPairs,
  type ClassificationReport,
  type ConfusedPair,
  type ConfusionMatrix,
  type Misclassified,
} from "../results/metrics";
import { architectureFigure } from "../figures/architecture";
import { classScoresFigure } from "../figures/scores";
import { confusionMatrixFigure } from "../figures/confusion";
import { htmlToPdf } from "../figures/render/chromium";
import { learningCurvesFigure } from "../figures/curves";
import { misclassifiedFigure, selectImages } from "../figures/misclassified";
import { predictionsFigure } from "../figures/predictions";
import { renderFigure } from "../figures/render/chromium";
import type { Figure } from "../figures/figure";
import type { Images } from "../data/images";
import { predictClasses, predictProba } from "../results/predict";
import { Run, RunError } from "./run";
import { asModelInput, readRunConfig } from "./custom-run";
import { layerTable } from "../model/summary";
import { escapeHtml } from "../format/html";
import type { ExperimentConfig } from "../config";
import type { CustomRunConfig } from "./custom-config";

/** Everything the error analysis finds on one labelled set, from the model's probabilities. */
export interface ErrorAnalysis {
  /** predictClasses(probabilities): one class index per image. */
  predicted: number[];
  confusion: ConfusionMatrix;
  report: ClassificationReport;
  /** The most frequent (true, predicted) mistakes, most frequent first. */
  pairs: ConfusedPair[];
  /** Wrong predictions, most confident first (at most `limit`). */
  wrong: Misclassified[];
}

/**
 * Confusion matrix, per-class scores, most confused pairs and the most confidently wrong images.
 * @param probabilities predictProba(model, test.x): one row of class probabilities per image.
 * @param yTrue the true class of each image (test.y.data).
 */
export function analyseErrors(
  probabilities: number[][],
  yTrue: ArrayLike<number>,
  classNames: readonly string[],
  opts: { pairs?: number; wrong?: number } = {},
): ErrorAnalysis {
  const predicted = predictClasses(probabilities);
  const confusion = confusionMatrix(yTrue, predicted, classNames);
  return {
    predicted,
    confusion,
    report: classificationReport(confusion),
    pairs: mostConfusedPairs(confusion, opts.pairs ?? 5),
    wrong: misclassified(probabilities, yTrue, opts.wrong ?? 24),
  };
}

/**
 * The error-analysis figures under the names notebook 08 saves them with: confusion_matrix (counts),
 * confusion_matrix_normalized (rows = recall), class_scores, misclassified_images.
 * @param images the images the analysis was made on (e.g. test.x), to draw the misclassified ones.
 */
function errorAnalysisFigures(analysis: ErrorAnalysis, images: Images<ArrayLike<number>>): Record<string, Figure> {
  const classNames = analysis.confusion.classNames;
  const figures: Record<string, Figure> = {
    confusion_matrix: confusionMatrixFigure(analysis.confusion.counts, { classNames }),
    confusion_matrix_normalized: confusionMatrixFigure(analysis.confusion.counts, { classNames, normalize: "true" }),
    class_scores: classScoresFigure(analysis.report.classes),
  };
  if (analysis.wrong.length > 0) {
    figures.misclassified_images = misclassifiedFigure(
      selectImages(
        images,
        analysis.wrong.map((w) => w.index),
      ),
      analysis.wrong,
      { classNames },
    );
  }
  return figures;
}

export interface ReportOptions {
  /** Folder for report.html and report.pdf; default the run folder. */
  outDir?: string;
  /** Also print the page to report.pdf; default true. */
  pdf?: boolean;
  /** How many misclassified images to show; default 24. */
  misclassified?: number;
  /** How many test images to show with their predicted probabilities; default 4. */
  samples?: number;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
}

export interface ReportResult {
  html: string;
  pdf?: string;
  htmlBytes: number;
  pdfBytes?: number;
  analysis: ErrorAnalysis;
}

function readJsonIfPresent<T>(run: Run, name: string): T | undefined {
  const file = run.file(name);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as T) : undefined;
}

function keyValueTable(obj: Record<string, unknown>): string {
  const cell = (v: unknown): string => escapeHtml(typeof v === "string" ? v : JSON.stringify(v));
  return `<table class="kv">${Object.entries(obj)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${cell(v)}</td></tr>`)
    .join("")}</table>`;
}

function scoresTable(report: ClassificationReport): string {
  const cells = (r: ReportRow): string =>
    [r.precision, r.recall, r.f1].map((x) => `<td>${formatScore(x, 3)}</td>`).join("") + `<td>${r.support}</td>`;
  return [
    '<table class="num"><thead><tr><th></th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr></thead><tbody>',
    ...classificationReportRows(report).map(
      (r) => `<tr${r.startsSummary ? ' class="sep"' : ""}><th>${escapeHtml(r.name)}</th>${cells(r)}</tr>`,
    ),
    "</tbody></table>",
  ].join("");
}

function pairsTable(pairs: readonly ConfusedPair[]): string {
  return [
    '<table class="num"><thead><tr><th>true class</th><th>predicted as</th><th>images</th><th>share of the class</th></tr></thead><tbody>',
    ...pairs.map(
      (p) =>
        `<tr><th>${escapeHtml(p.trueName)}</th><td class="l">${escapeHtml(p.predictedName)}</td><td>${p.count}</td><td>${(100 * p.rate).toFixed(1)} %</td></tr>`,
    ),
    "</tbody></table>",
  ].join("");
}

/** A figure as an <img> with an SVG data URI: vector, isolated from the page's CSS and ids, no script needed. */
async function figureImg(fig: Figure, alt: string): Promise<string> {
  const svg = await renderFigure(fig, { format: "svg" });
  return `<figure><img alt="${escapeHtml(alt)}" width="${fig.layout.width}" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}"></figure>`;
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:14px;color:#222;max-width:1000px;margin:24px auto;padding:0 16px;line-height:1.4}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:2px;margin-top:28px;break-after:avoid}
.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:8px 0;break-inside:avoid}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
table.num td{text-align:right}table.num td.l{text-align:left}table.num thead th{text-align:right}table.num thead th:first-child{text-align:left}
tr.sep th,tr.sep td{border-top:1px solid #999}
table.kv th{color:#555;font-weight:normal;white-space:nowrap}table.kv td{font-family:"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
pre{background:#f6f6f6;padding:8px;font-size:11px;overflow-x:auto;break-inside:avoid}
figure{margin:8px 0;break-inside:avoid}img{max-width:100%;height:auto}
.headline{font-size:16px}.headline b{font-size:20px}
.cols{display:flex;gap:24px;flex-wrap:wrap}.note{color:#666;font-size:12px}
@media print{body{margin:0;max-width:none}h2{margin-top:18px}}
`;

/** What the report is made of: the run's files, the model's predictions on the test set and their analysis. */
interface ReportInputs {
  run: Run;
  config: ExperimentConfig;
  /** A hand-built model's saved config, shown instead of the MLP's fields. */
  custom: CustomRunConfig | undefined;
  metrics: Record<string, unknown>;
  analysis: ErrorAnalysis;
  /** The report's figures, by name; absent ones (no history.csv) are left out. */
  figures: Record<string, Figure | undefined>;
  nSamples: number;
}

async function predictForReport(run: Run, opts: ReportOptions, log: (line: string) => void): Promise<ReportInputs> {
  // A hand-built model's run records "custom" for the MLP's fields: its data fields still say how to load the test set.
  const { config, custom } = readRunConfig(run);
  const backend = await initBackend(config);
  log(formatBackend(backend));
  const model = await run.loadModel();
  const { splits: data, standardization } = await loadDataWithStandardization(config);
  const { classNames } = data;
  // The images as pixels again: a "standardize" run's test set drawn as it is would be almost white.
  const testImages = unstandardize(data.test.x, standardization);
  // A hand-built CNN takes [n, 28, 28, 1]: the test images as the model's input (same pixels).
  const test = { x: asModelInput(model, data.test.x), y: data.test.y };
  const started = performance.now();
  const probabilities = predictProba(model, test.x);
  const analysis = analyseErrors(probabilities, test.y.data, classNames, { wrong: opts.misclassified ?? 24 });
  const metrics = readJsonIfPresent<Record<string, unknown>>(run, "metrics.json") ?? {
    ...evaluate(model, test, null),
    backend: backend.name,
  };
  log(`predicted ${test.y.data.length} test images in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const history = fs.existsSync(run.file("history.csv")) ? run.loadHistory() : undefined;
  const nSamples = Math.min(opts.samples ?? 4, test.y.data.length);
  const sampleIdx = Array.from({ length: nSamples }, (_, i) => i);
  const figures = {
    architecture: architectureFigure(layerTable(model)),
    curves: history ? learningCurvesFigure(history.history, { shiftTraining: true }) : undefined,
    samples: predictionsFigure(
      selectImages(testImages, sampleIdx),
      sampleIdx.map((i) => classNames[analysis.predicted[i] ?? 0] ?? ""),
      sampleIdx.map((i) => probabilities[i] ?? []),
      { classNames, trueNames: sampleIdx.map((i) => classNames[test.y.data[i] ?? 0] ?? "") },
    ),
    ...errorAnalysisFigures(analysis, testImages),
  };
  model.dispose();
  return { run, config, custom, metrics, analysis, figures, nSamples };
}

/** Each figure as an inline <img>, by name. All at once: the render daemon draws them side by side. */
async function renderReportFigures(
  figures: Record<string, Figure | undefined>,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const started = performance.now();
  const drawn = Object.entries(figures).filter((e): e is [string, Figure] => e[1] !== undefined);
  const img: Record<string, string> = Object.fromEntries(
    await Promise.all(drawn.map(async ([name, fig]) => [name, await figureImg(fig, name.replace(/_/g, " "))] as const)),
  );
  log(`rendered ${Object.keys(img).length} figures in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return img;
}

function headlineHtml({ run, metrics, analysis }: ReportInputs): string[] {
  const acc = typeof metrics.test_accuracy === "number" ? metrics.test_accuracy : analysis.report.accuracy;
  const name = path.basename(run.dir);
  const wrongCount = analysis.confusion.total - Math.round(analysis.report.accuracy * analysis.confusion.total);
  return [
    `<html lang="en"><head><meta charset="utf-8"><title>fashion-ann run ${escapeHtml(name)}</title><style>${CSS}</style></head><body>`,
    `<h1>fashion-ann run ${escapeHtml(name)}</h1>`,
    `<p class="sub">${escapeHtml(run.dir)} — report written ${escapeHtml(new Date().toISOString())}</p>`,
    `<p class="headline">Test accuracy <b>${(100 * acc).toFixed(2)} %</b>` +
      (typeof metrics.test_loss === "number" ? `, test loss ${metrics.test_loss.toFixed(4)}` : "") +
      ` — ${wrongCount} of ${analysis.confusion.total} test images misclassified.</p>`,
  ];
}

function runSectionsHtml({ run, config, custom, metrics }: ReportInputs, img: Record<string, string>): string[] {
  const summary = fs.existsSync(run.file("summary.txt")) ? fs.readFileSync(run.file("summary.txt"), "utf8") : undefined;
  const environment = readJsonIfPresent<Record<string, unknown>>(run, "environment.json");
  return [
    "<h2>Config</h2>",
    keyValueTable((custom ?? config) as unknown as Record<string, unknown>),
    "<h2>Test metrics</h2>",
    keyValueTable(metrics),
    ...(environment ? ["<h2>Environment</h2>", keyValueTable(environment)] : []),
    "<h2>Model</h2>",
    ...(custom
      ? ['<p class="note">A model built by hand: its architecture is the saved summary (and model.json), not config fields.</p>']
      : []),
    summary ? `<pre>${escapeHtml(summary)}</pre>` : '<p class="note">summary.txt missing</p>',
    img.architecture ?? "",
    "<h2>Learning curves</h2>",
    img.curves
      ? img.curves +
        '<p class="note">Training values are averaged over each epoch while the weights change, validation values are measured at its end; the training curves are drawn half an epoch to the left so the two compare like for like.</p>'
      : '<p class="note">history.csv missing: no learning curves.</p>',
  ];
}

function errorSectionsHtml({ analysis, nSamples }: ReportInputs, img: Record<string, string>): string[] {
  return [
    "<h2>Confusion matrix</h2>",
    "<p class=\"note\">Rows are true classes, columns predicted ones. The normalised matrix divides each row by the class's images, so its diagonal is each class's recall.</p>",
    img.confusion_matrix ?? "",
    img.confusion_matrix_normalized ?? "",
    "<h2>Per-class scores</h2>",
    scoresTable(analysis.report),
    img.class_scores ?? "",
    "<h2>Most confused classes</h2>",
    pairsTable(analysis.pairs),
    "<h2>Sample predictions</h2>",
    `<p class="note">The first ${nSamples} test images, titled with the predicted class (red with the true class when wrong), and the predicted probabilities.</p>`,
    img.samples ?? "",
    "<h2>Misclassified examples</h2>",
    img.misclassified_images
      ? `<p class="note">The ${analysis.wrong.length} most confidently wrong test predictions: predicted class and its probability (red) over the true class.</p>${img.misclassified_images}`
      : "<p>No test image was misclassified.</p>",
  ];
}

/**
 * Writes `report.html` (self-contained: opens offline, no script) and `report.pdf` for a trained run folder:
 * config, environment, model summary and architecture, learning curves, test metrics, confusion matrices,
 * per-class scores, the most confused pairs, sample predictions and the misclassified images.
 * Loads the model (run/model) and the test set to compute the predictions.
 */
export async function writeRunReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const log = opts.log ?? console.log;
  const run = new Run(path.resolve(runDir));
  if (!fs.existsSync(run.dir))
    throw new RunError(`run folder ${run.dir} does not exist; pass a folder written by \`fashion-ann train\` or the notebooks`);
  const inputs = await predictForReport(run, opts, log);
  const img = await renderReportFigures(inputs.figures, log);
  const html = [
    "<!DOCTYPE html>",
    ...headlineHtml(inputs),
    ...runSectionsHtml(inputs, img),
    ...errorSectionsHtml(inputs, img),
    "</body></html>",
    "",
  ].join("\n");
  return writeReportFiles(html, path.resolve(opts.outDir ?? run.dir), opts.pdf ?? true, inputs.analysis);
}

async function writeReportFiles(html: string, outDir: string, pdf: boolean, analysis: ErrorAnalysis): Promise<ReportResult> {
  const htmlFile = path.join(outDir, "report.html");
  writeFileAtomic(htmlFile, html);
  const result: ReportResult = { html: htmlFile, htmlBytes: Buffer.byteLength(html), analysis };
  if (pdf) {
    const bytes = await htmlToPdf(html);
    result.pdf = path.join(outDir, "report.pdf");
    writeFileAtomic(result.pdf, bytes);
    result.pdfBytes = bytes.byteLength;
  }
  return result;
}
