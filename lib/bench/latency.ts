// `fashion-ann bench --latency`: each repeat times `--help`, a bad flag, and a notebook's import, startNotebook and
// figure cells, every one in a fresh process, so nothing is warm that a reader's new kernel or command would not have.
import { fork, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { childEnvironment } from "../config";
import { writeFileAtomic } from "../io/atomic";
import { projectPath } from "../io/paths";
import { type LatencyReport, type LatencySamples, type LatencyStep, summarizeLatency } from "./latency-report";
import { BenchError, machineEnvironment } from "./report";

export interface LatencyOptions {
  /** Fresh processes per step (default 5): the table shows their median and range. */
  repeats?: number;
  /** Write the report here as JSON (atomically). */
  json?: string;
  /** Progress lines; default stderr, so stdout keeps only the table. */
  log?: (line: string) => void;
}

/** What the parent sends the notebook child (lib/cli/latency-worker.ts). */
export interface LatencySpec {
  /** The built library's entry, dist/lib/index.js: what `import ... from "fashion-ann"` requires. */
  library: string;
  /** dist/lib/figures/render/chromium.js, whose renderFigure draws showInline's PNG. */
  renderer: string;
  runDir: string;
  figuresDir: string;
}

/** What the parent sends the kernel child (lib/cli/latency-kernel-worker.ts). */
export interface LatencyKernelSpec {
  /** The notebook whose import and startNotebook cells are timed (notebook 04: the heaviest pair). */
  notebook: string;
  runDir: string;
}

export type LatencyWorkerReply = { seconds: Partial<Record<LatencyStep, number>> } | { error: string };

const DEFAULT_LATENCY_REPEATS = 5;

/** The built files the mode runs; the measurement is of what users run, so the TypeScript sources will not do. */
function builtFiles(): { cli: string; worker: string; kernelWorker: string; library: string; renderer: string } {
  const lib = path.resolve(__dirname, "..");
  const files = {
    cli: path.join(lib, "cli/main.js"),
    worker: path.join(lib, "cli/latency-worker.js"),
    kernelWorker: path.join(lib, "cli/latency-kernel-worker.js"),
    library: path.join(lib, "index.js"),
    renderer: path.join(lib, "figures/render/chromium.js"),
  };
  const missing = Object.values(files).find((f) => !fs.existsSync(f));
  if (missing) throw new BenchError(`${missing} not found; the latency mode times the built library: run \`npm run build\` first`);
  return files;
}

/** Runs every repeat, one process at a time (never in parallel: they would share the cores). */
export async function runLatency(options: LatencyOptions = {}): Promise<LatencyReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const repeats = options.repeats ?? DEFAULT_LATENCY_REPEATS;
  if (!Number.isInteger(repeats) || repeats < 1) throw new BenchError(`repeats must be a positive integer, got ${repeats}`);
  const files = builtFiles();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-latency-"));
  const samples: LatencySamples = { seconds: {}, failures: {} };
  const started = new Date();
  const loadBefore = os.loadavg();
  try {
    for (let i = 1; i <= repeats; i++) {
      log(`latency: repeat ${i}/${repeats}`);
      await measure(samples, ["help"], async () => ({ help: await timeCommand(files.cli, ["--help"], 0) }));
      await measure(samples, ["badFlag"], async () => ({ badFlag: await timeCommand(files.cli, ["train", "--epochs", "x"], 2) }));
      await measure(samples, ["nodeStart"], async () => ({ nodeStart: await timeNode(["-e", "0"], 0) }));
      const spec: LatencySpec = {
        library: files.library,
        renderer: files.renderer,
        runDir: path.join(scratch, `run-${i}`),
        figuresDir: path.join(scratch, `figures-${i}`),
      };
      await measure(samples, NOTEBOOK_STEPS, () => notebookCells(files.worker, spec));
      const kernelSpec: LatencyKernelSpec = { notebook: projectPath(KERNEL_NOTEBOOK), runDir: path.join(scratch, `kernel-run-${i}`) };
      await measure(samples, KERNEL_STEPS, () => notebookCells(files.kernelWorker, kernelSpec));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const report: LatencyReport = {
    ...summarizeLatency(samples),
    environment: {
      ...machineEnvironment(started, loadBefore),
      repeats,
      seconds: "wall clock; the notebook steps inside one fresh process each repeat, the commands as whole processes",
    },
  };
  if (options.json) writeFileAtomic(path.resolve(options.json), JSON.stringify(report, null, 2) + "\n");
  return report;
}

const NOTEBOOK_STEPS: readonly LatencyStep[] = [
  "import",
  "startNotebook",
  "importAndStart",
  "loadData",
  "startWithData",
  "firstFigure",
  "laterFigure",
  "laterGridFigure",
];

const KERNEL_STEPS: readonly LatencyStep[] = ["kernelStart", "kernelImport", "kernelStartNotebook", "kernelImportAndStart"];

/** The notebook the kernel rows time: 04, whose import and startNotebook cells are the slowest pair (tfjs, loadData). */
const KERNEL_NOTEBOOK = "notebooks/04_train.ipynb";

/** Adds one process's times to `samples`, or records its failure against `steps` (the first reason is the one shown). */
async function measure(
  samples: LatencySamples,
  steps: readonly LatencyStep[],
  run: () => Promise<Partial<Record<LatencyStep, number>>>,
): Promise<void> {
  try {
    for (const [step, s] of Object.entries(await run()) as [LatencyStep, number][])
      samples.seconds[step] = [...(samples.seconds[step] ?? []), s];
  } catch (err) {
    for (const step of steps) samples.failures[step] ??= err instanceof Error ? err.message : String(err);
  }
}

/** Seconds from spawning `node cli ...args` to its exit, which must be `expectedCode`. */
function timeCommand(cli: string, args: string[], expectedCode: number): Promise<number> {
  return timeNode([cli, ...args], expectedCode, `fashion-ann ${args.join(" ")}`);
}

/** Seconds from spawning `node ...args` to its exit, which must be `expectedCode`. */
function timeNode(args: string[], expectedCode: number, what = `node ${args.join(" ")}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, args, { env: childEnvironment(), stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const s = (performance.now() - t) / 1000;
      if (code === expectedCode) resolve(s);
      else reject(new BenchError(`${what} exited with ${code}, expected ${expectedCode}: ${stderr.trim().split("\n")[0] ?? ""}`));
    });
  });
}

/** A notebook child's seconds per cell; its stdout (the backend line) is not ours to print. */
function notebookCells(worker: string, spec: LatencySpec | LatencyKernelSpec): Promise<Partial<Record<LatencyStep, number>>> {
  return new Promise((resolve, reject) => {
    const child = fork(worker, [], { env: childEnvironment(), stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let reply: LatencyWorkerReply | undefined;
    child.on("message", (m: LatencyWorkerReply) => (reply = m));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (reply && "seconds" in reply) resolve(reply.seconds);
      else if (reply) reject(new BenchError(reply.error));
      else
        reject(
          new BenchError(
            `the notebook child exited with ${signal ?? `code ${code}`} before reporting: ${stderr.trim().split("\n")[0] ?? ""}`,
          ),
        );
    });
    child.send(spec);
  });
}
