/**
 * Measures tslab's compile (type check + emit) of every code cell of the notebooks, as the project's kernel does it:
 * per notebook a fresh process with a warmed lean converter (dist/lib/notebook/kernel.js), the cells in order with the
 * runner's injected-parameters cell after the "parameters" cell. Prints CPU seconds per notebook and per cell, which
 * other work on the machine disturbs far less than wall time. Needs `npm run build`.
 *
 *     npx vite-node scripts/cell-compile.ts [notebook-name-part ...]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { injectedParametersSource } from "../lib/notebook/execute";

const ROOT = path.resolve(__dirname, "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
}

/** The code cells as the runner executes them: the injected-parameters cell follows the "parameters" cell. */
function cellsOf(notebook: string): string[] {
  const nb = JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: Cell[] };
  const cells: string[] = [];
  for (const c of nb.cells.filter((cell) => cell.cell_type === "code")) {
    cells.push(Array.isArray(c.source) ? c.source.join("") : c.source);
    if (c.metadata?.tags?.includes("parameters")) cells.push(injectedParametersSource({ epochs: 1 }, "/tmp/cell-compile-run"));
  }
  return cells;
}

// The child: plain node on the built kernel modules, so what is timed is what the kernel runs. Reads the cells as JSON
// on stdin, prints [{ cpu, diagnostics }] per cell.
const CHILD = `
const cells = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const { createLeanConverter } = require(${JSON.stringify(path.join(ROOT, "dist/lib/notebook/lean-builder.js"))});
const { warmConverter } = require(${JSON.stringify(path.join(ROOT, "dist/lib/notebook/kernel.js"))});
const converter = createLeanConverter({ isJS: false, isBrowser: false });
warmConverter(converter);
let prev = "";
const out = [];
for (const cell of cells) {
  const before = process.cpuUsage();
  const result = converter.convert(prev, cell);
  const used = process.cpuUsage(before);
  out.push({ cpu: (used.user + used.system) / 1e6, diagnostics: result.diagnostics.map((d) => d.messageText) });
  prev = result.declOutput ?? prev;
}
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

function compileCells(cells: string[]): { cpu: number; diagnostics: string[] }[] {
  const child = spawnSync(process.execPath, ["-e", CHILD], { cwd: NOTEBOOKS, input: JSON.stringify(cells), encoding: "utf8" });
  if (child.status !== 0) throw new Error(`the compile child exited with ${child.status}: ${child.stderr.trim().split("\n")[0]}`);
  return JSON.parse(child.stdout) as { cpu: number; diagnostics: string[] }[];
}

function main(only: string[]): void {
  if (!fs.existsSync(path.join(ROOT, "dist/lib/notebook/kernel.js"))) throw new Error("dist/ not found: run `npm run build` first");
  const names = fs
    .readdirSync(NOTEBOOKS)
    .filter((f) => f.endsWith(".ipynb") && (only.length === 0 || only.some((o) => f.includes(o))))
    .sort();
  let total = 0;
  let count = 0;
  for (const name of names) {
    const times = compileCells(cellsOf(path.join(NOTEBOOKS, name)));
    const cpu = times.reduce((s, t) => s + t.cpu, 0);
    total += cpu;
    count += times.length;
    console.log(`${name.padEnd(28)} ${String(times.length).padStart(2)} cells  ${cpu.toFixed(2)} s CPU  ${times.map((t) => t.cpu.toFixed(2)).join(" ")}`);
    for (const [i, t] of times.entries()) if (t.diagnostics.length) console.log(`  cell ${i + 1}: ${t.diagnostics.join("; ")}`);
  }
  console.log(`${"all".padEnd(28)} ${String(count).padStart(2)} cells  ${total.toFixed(2)} s CPU`);
}

main(process.argv.slice(2));
