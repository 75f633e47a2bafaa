/**
 * Runs the numbered notebooks (notebooks/NN_*.ipynb) headlessly through the tslab kernel, the
 * way papermill does for Python: each notebook has one cell tagged "parameters" holding
 * interactive defaults, e.g.
 *
 *     let overrides: ConfigOverrides = {};
 *     let runDir = "../runs/interactive";
 *
 * and the runner inserts right after it a cell tagged "injected-parameters" that assigns this
 * run's values (`overrides = {...}; runDir = "...";`). Assignments rather than re-declarations,
 * so the injected values are type-checked against the declared types (an unknown config key is
 * a compile error in that cell), and so they must be declared with `let`.
 *
 * Execution happens in scripts/execute_notebook.py (nbclient on Debian's /usr/bin/python3);
 * this module picks the notebooks, starts it once for all of them (so it can start each
 * notebook's kernel while the previous notebook runs), and turns its JSON-lines report into
 * progress lines and a NotebookError.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";

import { childEnvironment, resolveConfig, type ConfigOverrides } from "../config";
import { warmRenderer } from "../figures/render/chromium";
import { projectRoot } from "../io/paths";
import { UserError } from "../errors/user-error";

/** Jupyter runs on Debian's Python, which has nbclient and the notebook server; a venv or pyenv python may not. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Notebooks the runner picks up: two digits, an underscore, a name. Run in name order. */
const NOTEBOOK_NAME = /^\d\d_.+\.ipynb$/;

/**
 * Stderr text that means a cell failed. tslab prints compile errors ("3:10 - Type ...") and the
 * errors of un-awaited promises or timers only on stderr, sometimes with an "ok" reply, so the
 * runner and the UI test read stderr too. Plain warnings (console.warn, tfjs notices) do not match.
 * Written in the regex subset shared by JavaScript and Python, because the Python helper uses it.
 */
export const KERNEL_ERROR_PATTERN = /^(?:\d+:\d+ - |Uncaught\w*|Unhandled\w*|\w*Error:|\w*Exception:|KeyboardInterrupt:)/m;

/** Seconds one cell may run before the notebook fails; generous because a 30-epoch training is one cell. */
const DEFAULT_CELL_TIMEOUT_SEC = 3600;

export interface RunNotebooksOptions {
  /** Folder holding the NN_*.ipynb notebooks; also the kernel's working directory. Default: <project>/notebooks. */
  notebooksDir?: string;
  /** This run's folder. Executed notebooks are written to <runDir>/notebooks/; notebooks receive it (absolute) as `runDir`. */
  runDir: string;
  /** Config overrides handed to every notebook as `overrides`; validated with resolveConfig before anything runs. */
  overrides: ConfigOverrides;
  /** Run only these notebooks: "03", "03_model" or "03_model.ipynb". Default: all, in order. */
  only?: string[];
  /** Per-cell time limit in seconds; 0 = none. Default DEFAULT_CELL_TIMEOUT_SEC. */
  timeoutPerCellSec?: number;
  /** Receives progress lines and the kernel's output lines as they come. Default: discard. */
  log?: (line: string) => void;
}

export interface RunNotebooksResult {
  /** Absolute paths of the executed notebooks written under <runDir>/notebooks/, in run order. */
  notebooks: string[];
}

/** A notebook could not run, or one of its cells failed. The partly executed notebook is still written (outputPath). */
export class NotebookError extends UserError {
  override name = "NotebookError";
  constructor(
    message: string,
    /** File name of the notebook, e.g. "03_model.ipynb". */
    readonly notebook: string,
    /** 1-based number among the code cells that ran (the injected cell counts); 0 when no cell ran. */
    readonly cell: number,
    /** Kernel error text (compile errors, exception with stack, or what killed the kernel). */
    readonly detail: string,
    /** Where the partly executed notebook was written, if it was. */
    readonly outputPath?: string,
  ) {
    super(message);
  }
}

/** Where scripts/setup.sh registers the tslab kernel; Jupyter finds it through JUPYTER_PATH. */
function jupyterDataDir(root: string = projectRoot()): string {
  return path.join(root, ".jupyter", "share", "jupyter");
}

/** The environment every Jupyter process of the project needs: the project's kernel spec first on JUPYTER_PATH. */
export function jupyterEnv(root: string = projectRoot(), base: NodeJS.ProcessEnv = childEnvironment()): NodeJS.ProcessEnv {
  const paths = [jupyterDataDir(root), ...(base.JUPYTER_PATH ? [base.JUPYTER_PATH] : [])];
  return { ...base, JUPYTER_PATH: paths.join(path.delimiter) };
}

/** The NN_*.ipynb file names in `dir`, in run order, narrowed to `only` (each entry must match one notebook). */
export function listNotebooks(dir: string, only?: string[]): string[] {
  if (!fs.existsSync(dir)) throw new NotebookError(`notebooks folder ${dir} does not exist`, "", 0, "");
  const all = fs
    .readdirSync(dir)
    .filter((f) => NOTEBOOK_NAME.test(f))
    .sort();
  if (all.length === 0) throw new NotebookError(`no notebooks named NN_*.ipynb in ${dir}`, "", 0, "");
  if (!only || only.length === 0) return all;
  const picked = new Set<string>();
  for (const want of only) {
    const stem = want.replace(/\.ipynb$/, "");
    const match = all.filter((f) => f === `${stem}.ipynb` || f.startsWith(`${stem}_`));
    if (match.length !== 1) {
      throw new NotebookError(
        `notebook "${want}" matches ${match.length === 0 ? "none" : match.join(", ")} of: ${all.join(", ")}`,
        "",
        0,
        "",
      );
    }
    picked.add(match[0]!);
  }
  return all.filter((f) => picked.has(f));
}

/** Source of the injected-parameters cell: assignments to the variables the "parameters" cell declares with `let`. */
export function injectedParametersSource(overrides: ConfigOverrides, runDir: string): string {
  return [
    "// Injected by runNotebooks (lib/notebook/execute.ts): this run's values for the parameters cell above.",
    `overrides = ${JSON.stringify(overrides)};`,
    `runDir = ${JSON.stringify(runDir)};`,
    // Not `{ overrides, runDir }`: tslab does not resolve shorthand properties that name an earlier cell's variable.
    `console.log("injected parameters:", JSON.stringify({ overrides: overrides, runDir: runDir }));`,
  ].join("\n");
}

function checkKernelRegistered(root: string): void {
  const spec = path.join(jupyterDataDir(root), "kernels", "tslab", "kernel.json");
  if (!fs.existsSync(spec)) {
    throw new NotebookError(
      `tslab kernel spec ${spec} is missing; run \`npm run setup\` (bash scripts/setup.sh) to register it`,
      "",
      0,
      "",
    );
  }
}

/**
 * Executes the notebooks one after another, each in a fresh tslab kernel whose working directory
 * is `notebooksDir` (as when a person opens it in Jupyter), and stops at the first failure.
 * Throws NotebookError naming the notebook, the cell number, the cell's first line and the error.
 */
export async function runNotebooks(opts: RunNotebooksOptions): Promise<RunNotebooksResult> {
  const root = projectRoot();
  const notebooksDir = path.resolve(opts.notebooksDir ?? path.join(root, "notebooks"));
  const runDir = path.resolve(opts.runDir);
  const log = opts.log ?? (() => {});
  resolveConfig(opts.overrides); // a bad override fails here, before any kernel starts
  checkKernelRegistered(root);
  // Every notebook's kernel draws through the project's render daemon: start it now, while the first kernel starts.
  warmRenderer();
  const names = listNotebooks(notebooksDir, opts.only);
  const outDir = path.join(runDir, "notebooks");
  fs.mkdirSync(outDir, { recursive: true });
  const written = await executeNotebooks({
    root,
    names,
    notebooksDir,
    outDir,
    parameters: injectedParametersSource(opts.overrides, runDir),
    timeoutSec: opts.timeoutPerCellSec ?? DEFAULT_CELL_TIMEOUT_SEC,
    log,
  });
  return { notebooks: written };
}

interface ExecuteNotebooksArgs {
  root: string;
  /** File names in notebooksDir, run in this order. */
  names: string[];
  notebooksDir: string;
  outDir: string;
  parameters: string;
  timeoutSec: number;
  log: (line: string) => void;
}

/** One line of scripts/execute_notebook.py's report. */
type HelperEvent =
  | { type: "notebook"; path: string }
  | { type: "start"; cells: number }
  | { type: "kernel_ready"; waited: number }
  | { type: "cell_start"; number: number; firstLine: string }
  | { type: "stream"; name: "stdout" | "stderr"; text: string }
  | { type: "cell_done"; number: number; seconds: number }
  | { type: "failed"; number: number; firstLine: string; message: string }
  | { type: "written"; path: string };

const STDERR_TAIL_LINES = 30;

/** Follows the helper's JSON-lines report: progress lines for the log, the notebooks written, the failure if any. */
class HelperReport {
  readonly written: string[] = [];
  name: string;
  tag = "";
  cells = 0;
  failed: Extract<HelperEvent, { type: "failed" }> | undefined;
  writtenPath: string | undefined;
  private readonly partial: Record<string, string> = { stdout: "", stderr: "" };

  constructor(
    firstName: string,
    private readonly a: ExecuteNotebooksArgs,
  ) {
    this.name = firstName;
  }

  line(line: string): void {
    try {
      this.event(JSON.parse(line) as HelperEvent);
    } catch {
      this.a.log(`${this.tag} ${line}`); // not a report line: something printed by a library, show it as is
    }
  }

  private event(ev: HelperEvent): void {
    const { a, tag } = this;
    switch (ev.type) {
      case "notebook":
        this.name = path.basename(ev.path);
        this.tag = `[${this.name.replace(/\.ipynb$/, "")}]`;
        this.writtenPath = undefined;
        break;
      case "start":
        this.cells = ev.cells;
        a.log(`${tag} start: ${ev.cells} code cells, kernel tslab, cwd ${a.notebooksDir}`);
        break;
      case "kernel_ready":
        a.log(`${tag} kernel ready (waited ${ev.waited.toFixed(1)} s)`);
        break;
      case "cell_start":
        break;
      case "stream":
        this.showStream(ev.name, ev.text);
        break;
      case "cell_done":
        this.flushStreams();
        a.log(`${tag} cell ${ev.number}/${this.cells} ok (${ev.seconds.toFixed(1)} s)`);
        break;
      case "failed":
        this.flushStreams();
        this.failed = ev;
        a.log(`${tag} cell ${ev.number}/${this.cells} FAILED`);
        break;
      case "written":
        this.writtenPath = ev.path;
        if (!this.failed) this.written.push(ev.path);
        a.log(`${tag} wrote ${ev.path}`);
        break;
    }
  }

  // Kernel output arrives in arbitrary chunks; show whole lines, and of a progress bar redrawn with \r only its
  // last state.
  private showStream(stream: string, text: string): void {
    const lines = (this.partial[stream] + text).split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.a.log(`${this.tag}   | ${line.split("\r").pop()}`);
  }

  private flushStreams(): void {
    for (const stream of Object.keys(this.partial)) if (this.partial[stream]) this.showStream(stream, "\n");
  }

  /** The NotebookError for a helper that ended without running every notebook. */
  error(code: number | null, signal: NodeJS.Signals | null, stderrTail: string[]): NotebookError {
    const { failed, name, cells, writtenPath } = this;
    const detail = failed?.message ?? (stderrTail.join("\n") || `exited with ${signal ?? `code ${code}`}`);
    const where = failed && failed.number > 0 ? `cell ${failed.number}/${cells} (${JSON.stringify(failed.firstLine)})` : "could not run";
    const saved = writtenPath ? `\n(partly executed notebook: ${writtenPath})` : "";
    return new NotebookError(`${name}: ${where}:\n${detail}${saved}`, name, failed?.number ?? 0, detail, writtenPath);
  }
}

function helperArgs(a: ExecuteNotebooksArgs): string[] {
  const args = [path.join(a.root, "scripts", "execute_notebook.py")];
  for (const name of a.names) args.push("--input", path.join(a.notebooksDir, name), "--output", path.join(a.outDir, name));
  args.push(...["--cwd", a.notebooksDir, "--kernel", "tslab", "--parameters", a.parameters]);
  args.push(...["--timeout", String(Math.ceil(a.timeoutSec)), "--error-pattern", KERNEL_ERROR_PATTERN.source]);
  return args;
}

/**
 * Runs the notebooks in one helper process, which starts each notebook's kernel while the previous notebook runs.
 * Resolves with the written paths; rejects with a NotebookError naming the notebook that failed.
 */
function executeNotebooks(a: ExecuteNotebooksArgs): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, helperArgs(a), { cwd: a.root, env: jupyterEnv(a.root), stdio: ["ignore", "pipe", "pipe"] });
    const report = new HelperReport(a.names[0] ?? "", a);
    const stderrTail: string[] = [];
    readline.createInterface({ input: child.stdout }).on("line", (line) => report.line(line));
    readline.createInterface({ input: child.stderr }).on("line", (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    });
    child.on("error", (err) =>
      reject(
        new NotebookError(
          `${report.name}: could not start ${SYSTEM_PYTHON} (${err.message}); run \`npm run setup\``,
          report.name,
          0,
          err.message,
        ),
      ),
    );
    child.on("close", (code, signal) => {
      if (code === 0 && !report.failed && report.written.length === a.names.length) return resolve(report.written);
      reject(report.error(code, signal, stderrTail));
    });
  });
}
