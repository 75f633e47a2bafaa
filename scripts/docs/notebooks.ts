/**
 * The notebooks cell by cell, from the .ipynb files themselves: each markdown cell's heading, each code cell's first
 * statement, and what the cell writes to or reads from the run folder (found from the library calls that do it).
 */
import * as fs from "node:fs";
import * as path from "node:path";

interface Cell {
  cell_type: "markdown" | "code" | "raw";
  source: string | string[];
  metadata?: { tags?: string[] };
}

/** The run-folder files a code cell writes (→) or reads (←), by the calls that do it. */
function filesOf(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/saveFig\([^,]+,\s*"([^"]+)"/g)) found.push(`→ figures/${m[1]}.png`);
  for (const m of code.matchAll(/run\.write(?:Text|Json)\(\s*"([^"]+)"/g)) found.push(`→ ${m[1]}`);
  if (code.includes("run.saveConfig(")) found.push("→ config.json");
  if (code.includes("run.saveEnvironment(")) found.push("→ environment.json");
  if (code.includes("run.saveHistory(")) found.push("→ history.csv, history.json");
  if (code.includes("run.saveModel(")) found.push("→ model/");
  if (code.includes("run.loadModel(")) found.push("← model/");
  if (code.includes("run.loadHistory(")) found.push("← history.json");
  return found;
}

/** One cell as a list item: a heading, or the first line of code that is not an import or a comment. */
function cellLine(cell: Cell): string | null {
  const text = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
  if (cell.cell_type === "markdown") {
    const heading = text.match(/^#+\s+(.+)$/m)?.[1];
    return heading ? `**${heading.trim()}**` : null;
  }
  if (cell.cell_type !== "code") return null;
  if (cell.metadata?.tags?.includes("parameters")) return "parameters cell (`overrides`, `runDir`)";
  if (/^\s*import[\s{]/.test(text)) return "imports from `fashion-ann`";
  const first = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !l.startsWith("//"));
  if (!first) return null;
  const shown = first.length > 90 ? `${first.slice(0, 87)}...` : first;
  const files = filesOf(text);
  return `\`${shown.replace(/`/g, "'")}\`${files.length ? ` ${files.map((f) => `*${f}*`).join(", ")}` : ""}`;
}

/** Every notebook in notebooks/, in order, as a heading and a numbered list of its cells. */
export function notebookCells(root: string): string {
  const dir = path.join(root, "notebooks");
  const sections = fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.*\.ipynb$/.test(f))
    .sort()
    .map((file) => {
      const cells = (JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as { cells: Cell[] }).cells;
      const lines = cells.map(cellLine).filter((l): l is string => l !== null);
      const [title, ...rest] = lines;
      return [`### ${file.replace(/\.ipynb$/, "")}: ${title?.replace(/\*\*/g, "") ?? ""}`, "", ...rest.map((l, i) => `${i + 1}. ${l}`)].join("\n");
    });
  return sections.join("\n\n");
}
