import * as fs from "node:fs";
import type * as dfd from "danfojs-node";
import { lazyRequire } from "../io/lazy";
import type { History } from "../train/callbacks/callback";
import { UserError } from "../errors/user-error";

// danfojs loads with the first table, not with the library.
const danfo = lazyRequire<typeof dfd>("danfojs-node");

/** A history file that is not what historyToCsv writes. */
class HistoryError extends UserError {
  override name = "HistoryError";
}

/** Keras's order of History columns. */
const KERAS_ORDER = ["loss", "accuracy", "val_loss", "val_accuracy"];

function columns(history: History): string[] {
  const keys = Object.keys(history.history);
  return [...KERAS_ORDER.filter((k) => keys.includes(k)), ...keys.filter((k) => !KERAS_ORDER.includes(k))];
}

/**
 * `pd.DataFrame(history.history)`: one row per epoch (index = epoch, from 0 as in Keras), one column per
 * metric. Configured to print every epoch (danfojs prints 10 rows by default).
 */
export function historyToDataFrame(history: History): dfd.DataFrame {
  const data: Record<string, number[]> = {};
  for (const k of columns(history)) data[k] = history.history[k]!;
  return new (danfo().DataFrame)(data, { index: history.epoch, config: { tableMaxRow: Math.max(history.epoch.length, 10) } });
}

/** Prints the history table with every epoch, values rounded to 6 decimals as pandas shows them. */
export function printHistory(history: History, print: (s: string) => void = console.log): void {
  const rounded: History = {
    ...history,
    history: Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v.map((x) => Number(x.toFixed(6)))])),
  };
  print(historyToDataFrame(rounded).toString());
}

/** CSV like Keras's CSVLogger: `epoch,loss,accuracy,val_loss,val_accuracy`, full precision. */
export function historyToCsv(history: History): string {
  const cols = columns(history);
  const rows = history.epoch.map((e, i) => [e, ...cols.map((k) => history.history[k]![i])].join(","));
  return [["epoch", ...cols].join(","), ...rows].join("\n") + "\n";
}

/** Reads a CSV written by historyToCsv back into a History (for later notebooks and `compare`). */
export function historyFromCsv(csv: string, source = "history.csv"): History {
  const lines = csv.trim().split(/\r?\n/);
  const header = lines[0]?.split(",") ?? [];
  if (header[0] !== "epoch" || header.length < 2) {
    throw new HistoryError(
      `${source}: expected a header starting with "epoch," (from historyToCsv), got "${lines[0] ?? ""}"; the file is damaged or not a history, train again`,
    );
  }
  const history: History = { epoch: [], history: {}, params: { epochs: 0, steps: 0, batchSize: 0, samples: 0 } };
  for (const k of header.slice(1)) history.history[k] = [];
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(",").map(Number);
    if (cells.length !== header.length || cells.some((c) => !Number.isFinite(c))) {
      throw new HistoryError(
        `${source}: line ${i + 2} should hold ${header.length} numbers, got "${line}"; the file is damaged, train again`,
      );
    }
    history.epoch.push(cells[0]!);
    header.slice(1).forEach((k, j) => history.history[k]!.push(cells[j + 1]!));
  });
  history.params.epochs = history.epoch.length;
  return history;
}

export function loadHistory(csvFile: string): History {
  return historyFromCsv(fs.readFileSync(csvFile, "utf8"), csvFile);
}
