// Child-process entry of `fashion-ann bench --latency`: a notebook's first cells executed by the project's Jupyter
// kernel executor (lib/notebook/kernel.ts), in a fresh process: tslab's compile of each cell is part of the time,
// as in `fashion-ann notebooks` and in Jupyter, where the plain-node rows leave it out. The parent sends a
// LatencyKernelSpec over IPC and gets back { seconds } or { error }.
import * as fs from "node:fs";
import * as path from "node:path";
import type { LatencyKernelSpec, LatencyWorkerReply } from "../bench/latency";
import type { LatencyStep } from "../bench/latency-report";
import { childEnvironment } from "../config";
import { createKernelExecutor, prefetchForDataNotebooks } from "../notebook/kernel";
import { serveOneRequest } from "./ipc-worker";

const seconds = (from: number): number => (performance.now() - from) / 1000;

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
}

/** The notebook's cells up to its startNotebook cell, with the runner's injected-parameters cell after "parameters". */
function firstCells(notebook: string, runDir: string): { cells: string[]; start: number } {
  const nb = JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: Cell[] };
  const cells: string[] = [];
  for (const c of nb.cells.filter((cell) => cell.cell_type === "code")) {
    const source = Array.isArray(c.source) ? c.source.join("") : c.source;
    cells.push(source);
    if (c.metadata?.tags?.includes("parameters")) cells.push(`overrides = {"epochs":1};\nrunDir = ${JSON.stringify(runDir)};`);
    if (/\bstartNotebook\(/.test(source)) return { cells, start: cells.length - 1 };
  }
  throw new Error(`${notebook}: no cell calls startNotebook(); the kernel rows time a notebook's import and startNotebook cells`);
}

async function measure(spec: LatencyKernelSpec): Promise<LatencyWorkerReply> {
  const { cells, start } = firstCells(spec.notebook, spec.runDir);
  const cwd = path.dirname(spec.notebook);
  let t = performance.now();
  const { executor, inProject } = createKernelExecutor(cwd);
  const kernelStart = seconds(t);
  if (!inProject) return { error: `the kernel found no fashion-ann below ${cwd}; run \`npm run build\` and \`npm run setup\`` };
  // As the runner's kernel: it knows its notebook (JPY_SESSION_NAME) and reads the dataset ahead if it loads data.
  prefetchForDataNotebooks(executor, cwd, childEnvironment({ JPY_SESSION_NAME: spec.notebook }));
  const times: number[] = [];
  for (const [i, cell] of cells.entries()) {
    t = performance.now();
    if (!(await executor.execute(cell))) return { error: `${path.basename(spec.notebook)}: cell ${i + 1} failed in the kernel` };
    times.push(seconds(t));
  }
  const kernelImport = times[0]!;
  const kernelStartNotebook = times[start]!;
  const reply: Partial<Record<LatencyStep, number>> = {
    kernelStart,
    kernelImport,
    kernelStartNotebook,
    kernelImportAndStart: kernelImport + kernelStartNotebook,
  };
  return { seconds: reply };
}

if (require.main === module) serveOneRequest<LatencyKernelSpec, LatencyWorkerReply>("latency kernel worker", measure);
