// The study's figures (Optuna's six views of a study) and its report: report.html in the study folder, one
// self-contained page (figures inlined as SVG data URIs, no script, no network) with the results table.
import * as path from "node:path";
import type { Figure } from "../figures/figure";
import { renderFigure, saveFig } from "../figures/render/chromium";
import { optimizationHistoryFigure, intermediateValuesFigure } from "../figures/study-history";
import { paramImportancesFigure } from "../figures/study-importance";
import { contourFigure, parallelCoordinateFigure, sliceFigure } from "../figures/study-params";
import type { StudyPlotData } from "../figures/study-style";
import { escapeHtml } from "../format/html";
import { writeFileAtomic } from "../io/atomic";
import type { Objective } from "./core/objective";
import { resultRows, tableRecords } from "./core/results";
import type { SearchSpace } from "./core/space";
import type { TrialRecord } from "./core/study";
import { studyImportances, studyPlotData } from "./analysis/study-view";

/** The importance method, named in the figure's title and the docs. */
export const IMPORTANCE_METHOD = "PED-ANOVA";

/** A study's figures by file name (study_history, ...), with the importances they were drawn from. */
export interface StudyFigures {
  figures: Record<string, Figure>;
  /** Parameter -> importance (PED-ANOVA, summing to 1), most important first; empty with fewer than 2 completed trials. */
  importances: Record<string, number>;
}

/**
 * Every study figure that the trials so far can fill: the history and intermediate values always; parallel
 * coordinates and slices once a parameter is searched; the importances from 2 completed trials; the contour of the
 * two most important parameters when there are two.
 */
export function studyFigures(data: StudyPlotData): StudyFigures {
  const figures: Record<string, Figure> = {
    study_history: optimizationHistoryFigure(data),
    study_intermediate: intermediateValuesFigure(data),
  };
  const names = Object.keys(data.params);
  if (names.length === 0) return { figures, importances: {} };
  figures.study_parallel = parallelCoordinateFigure(data);
  figures.study_slice = sliceFigure(data);
  const completed = data.trials.filter((t) => t.state === "complete" && t.value !== null).length;
  const importances = completed >= 2 ? studyImportances(data) : {};
  if (completed >= 2) figures.study_importances = paramImportancesFigure(importances, { method: IMPORTANCE_METHOD });
  const ranked = completed >= 2 ? Object.keys(importances) : names;
  if (ranked.length >= 2) figures.study_contour = contourFigure(data, [ranked[0]!, ranked[1]!]);
  return { figures, importances };
}

/** studyFigures straight from a study's trials, space and objective. */
export function studyFiguresOf(trials: readonly TrialRecord[], space: SearchSpace, objective: Objective): StudyFigures {
  return studyFigures(studyPlotData(trials, space, objective));
}

/** Saves each figure as PNG and SVG in `dir`; returns the files written. */
export async function saveStudyFigures(figures: Record<string, Figure>, dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const [name, fig] of Object.entries(figures)) {
    files.push(await saveFig(fig, name, { dir }), await saveFig(fig, name, { dir, format: "svg" }));
  }
  return files;
}

const CSS = `body{font-family:"DejaVu Sans",Arial,sans-serif;font-size:14px;color:#222;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:24px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:28px}
table{border-collapse:collapse;font-size:12px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
figure{margin:8px 0}img{max-width:100%;height:auto}.note{color:#666;font-size:12px}`;

const SECTIONS: [string, string, string][] = [
  ["study_history", "Optimization history", "Each trial's best objective, and the best so far."],
  ["study_intermediate", "Intermediate values", "The objective after each epoch; pruned trials dotted, a red cross where they stopped."],
  ["study_parallel", "Parallel coordinates", "One line per trial through its parameters, darker is better."],
  ["study_slice", "Slices", "The objective against each parameter, darker dots are later trials."],
  ["study_contour", "Contour of the two most important parameters", "The objective between the trials, trials as dots."],
  ["study_importances", "Hyperparameter importances", `${IMPORTANCE_METHOD} over the completed trials (Optuna's default evaluator).`],
];

/** report.html for a study: title, results table (best first) and every figure studyFigures drew. */
export async function writeStudyReport(
  out: string,
  name: string,
  trials: readonly TrialRecord[],
  space: SearchSpace,
  objective: Objective,
  figures: Record<string, Figure> = studyFiguresOf(trials, space, objective).figures,
): Promise<string> {
  const records = tableRecords(resultRows(trials, objective), objective);
  const cols = Object.keys(records[0] ?? {});
  const cell = (v: unknown) =>
    escapeHtml(v === null || v === undefined ? "" : typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(5) : String(v));
  const table = `<table><thead><tr>${cols.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${records
    .map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
  const parts: string[] = [];
  for (const [key, title, note] of SECTIONS) {
    const fig = figures[key];
    if (!fig) continue;
    const svg = (await renderFigure(fig, { format: "svg" })) as string;
    parts.push(
      `<h2>${escapeHtml(title)}</h2><p class="note">${escapeHtml(note)}</p><figure><img alt="${escapeHtml(title)}" width="${fig.layout.width}" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}"></figure>`,
    );
  }
  const html = [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>fashion-ann study ${escapeHtml(name)}</title><style>${CSS}</style></head><body>`,
    `<h1>Study ${escapeHtml(name)}</h1><p class="note">${trials.length} trials, objective ${escapeHtml(objective.name)} (${objective.direction === "max" ? "maximised" : "minimised"})</p>`,
    `<h2>Trials, best first</h2>${table}`,
    ...parts,
    "</body></html>",
    "",
  ].join("\n");
  const file = path.join(out, "report.html");
  writeFileAtomic(file, html);
  return file;
}
