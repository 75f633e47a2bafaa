// A table of trials (sweep runs, search trials) for a notebook, redrawn in place as trials finish, the best marked.
import { escapeHtml } from "../format/html";
import { kernelTslab } from "../io/tslab";
import { bestOf, type Objective } from "./core/objective";

/** One trial: its hyperparameters and results by column name; missing values (a trial still running) print blank. */
export type TrialRow = Record<string, string | number | undefined>;

const cell = (v: TrialRow[string]): string =>
  v === undefined ? "" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;

/** Index of the best row by the objective (finite values only, the first of equals), or -1 if no row has one yet. */
export function bestRow(rows: readonly TrialRow[], objective: Objective): number {
  const values = rows.map((r) => r[objective.name]).map((v) => (typeof v === "number" ? v : Number.NaN));
  // bestOf counts positions from 1 (epochs); rows count from 0.
  const best = bestOf(values, objective.direction);
  return best ? best.epoch - 1 : -1;
}

/**
 * The trials as an HTML table (columns: the union of the rows' keys in first-seen order), the best row in bold
 * with a ★, and a line above naming it: "best so far: trial 3, val_accuracy 0.8812 (3 of 8 trials done)".
 */
export function trialsTableHtml(rows: readonly TrialRow[], objective: Objective, total?: number): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const best = bestRow(rows, objective);
  const done = rows.filter((r) => r[objective.name] !== undefined).length;
  const progress = `${done} of ${total ?? rows.length} trials done`;
  const summary =
    best < 0
      ? `no finished trial yet (${progress})`
      : `best so far: trial ${best + 1}, ${objective.name} ${cell(rows[best]![objective.name])} (${progress})`;
  const head = `<tr><th>#</th>${columns.map((c) => `<th>${escapeHtml(c)}${c === objective.name ? (objective.direction === "max" ? " ↑" : " ↓") : ""}</th>`).join("")}</tr>`;
  const body = rows
    .map((r, i) => {
      const style = i === best ? ' style="font-weight:bold;background:#e8f0fe"' : "";
      return `<tr${style}><td>${i + 1}${i === best ? " ★" : ""}</td>${columns.map((c) => `<td>${escapeHtml(cell(r[c]))}</td>`).join("")}</tr>`;
    })
    .join("");
  return `<div><p>${escapeHtml(summary)}</p><table><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
}

/** Where the table is drawn: tslab's `newDisplay()` by default; tests pass a fake. */
export interface HtmlDisplay {
  html(s: string): void;
}

/**
 * A trials table that redraws itself in place in a notebook: call `update(rows)` whenever a trial finishes (or
 * starts). Outside a tslab kernel it draws nothing (`shown` is false), so a CLI can call it unconditionally.
 */
export function liveTrialsTable(
  objective: Objective,
  options: { total?: number; newDisplay?: () => HtmlDisplay } = {},
): { shown: boolean; update(rows: readonly TrialRow[]): void } {
  const newDisplay = options.newDisplay ?? kernelTslab()?.newDisplay;
  let display: HtmlDisplay | undefined;
  return {
    shown: newDisplay !== undefined,
    update(rows) {
      if (!newDisplay) return;
      display ??= newDisplay();
      display.html(trialsTableHtml(rows, objective, options.total));
    },
  };
}
