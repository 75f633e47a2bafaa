/**
 * The project's Jupyter kernel: tslab's TypeScript kernel, started the way `tslab kernel` starts it, with additions
 * that shorten a notebook's first cells, which tslab type-checks and compiles one by one:
 * - its converters run on a plain program instead of TypeScript's incremental builder (./lean-builder), about half of
 *   each cell's compile time;
 * - before it answers Jupyter, it compiles an import of the library (WARM_UP_CELLS) once and throws the result away.
 *   tslab's converter is a TypeScript watch program that keeps every .d.ts file it has parsed; the library's types
 *   pull in about 700 of them (tfjs alone about 600), and the first cell that imports the library used to parse them
 *   all: 2-7 s on a busy 2-core machine;
 * - it loads the library's modules (preloadLibrary), and danfojs for a notebook that builds tables (preloadTables);
 * - for a notebook that loads data, it reads the dataset ahead on a worker thread (../data/prefetch).
 * Done during kernel start, that work is hidden while the reader looks at the notebook, or while the runner executes
 * the previous notebook. No cell is executed ahead: cells, their variables, interrupt and display behave as in tslab.
 *
 * Registered by scripts/setup.sh as the kernel "tslab" in .jupyter/:
 *     node dist/lib/notebook/kernel.js --config-path {connection_file}
 * tslab is pinned (package.json) because this builds on its internal modules, as its own main.js does.
 */
import * as path from "node:path";
import { keepBusyWhileQueued } from "./busy-status";
import { serializeZmqSends } from "./serial-sends";
import type { Converter } from "tslab/dist/converter";
import type { ConverterSet, Executor } from "tslab/dist/executor";
import { childEnvironment, resolveConfig } from "../config";
import { defaultDecodedCacheDir } from "../data/decoded-cache";
import { prefetchDataset } from "../data/prefetch";
import { projectPath } from "../io/paths";
import { createLeanConverter } from "./lean-builder";
import { loadsData, notebookBuildsTables, notebookLoadsData, sessionNotebook } from "./notebook-uses";

/** The library every notebook imports, by the name the notebooks use. */
export const LIBRARY = "fashion-ann";
/**
 * The cell whose compile is done ahead, thrown away, never run: it parses the library's declaration files (tfjs's
 * included, which notebooks 04 and 11 import). Compiling a notebook's next cells ahead as well (parameters,
 * startNotebook) cost 0.85 s more CPU at kernel start and saved about 0.1 s of the parameters cell only.
 */
export const WARM_UP_CELLS: readonly string[] = [`import * as tf from "@tensorflow/tfjs";\nimport * as fa from "${LIBRARY}";`];

/** tslab's own converter set (main.js keeps it private): one converter per target, created when first asked for. */
class Converters implements ConverterSet {
  private nodeConverter?: Converter;
  private browserConverter?: Converter;
  get node(): Converter {
    this.nodeConverter ??= createLeanConverter({ isJS: false, isBrowser: false });
    return this.nodeConverter;
  }
  get browser(): Converter {
    this.browserConverter ??= createLeanConverter({ isJS: false, isBrowser: true });
    return this.browserConverter;
  }
  close(): void {
    this.nodeConverter?.close();
    this.browserConverter?.close();
  }
}

/**
 * Compiles `cells` as one notebook's cells in order, so the converter holds the library's declaration files. Every
 * cell must import the library: a program without it would let the watch program drop the parsed files. Outside the project (no `fashion-ann` below the kernel's folder) the checks report a missing
 * module, which is ignored: that kernel is then plain tslab. Returns the seconds it took.
 */
export function warmConverter(converter: Converter, cells: readonly string[] = WARM_UP_CELLS): number {
  const started = performance.now();
  let prevDecl = "";
  for (const cell of cells) prevDecl = converter.convert(prevDecl, cell).declOutput ?? prevDecl;
  return (performance.now() - started) / 1000;
}

/**
 * Loads the library's JavaScript into Node's module cache, as IPython's `exec_lines` runs imports when its kernel
 * starts: the notebook's import cell then finds the modules loaded (tfjs, zod, the library: 1-3.5 s on a busy
 * 2-core machine) and binds the same module objects it would have loaded itself. The library does nothing at import
 * but define and register (tfjs optimizer classes), so no output or side effect moves out of the cell. A library
 * that fails to load is left alone: the import cell then reports the error where the reader sees it.
 */
export function preloadLibrary(cwd: string): boolean {
  try {
    require(require.resolve(LIBRARY, { paths: [cwd] }));
    return true;
  } catch {
    return false; // not below this folder, or broken: the notebook's own import says which
  }
}

/**
 * Loads danfojs into Node's module cache for a notebook whose cells build tables (./notebook-uses), as preloadLibrary
 * does the library: the library requires it at its first table (lib/io/lazy.ts), which was 0.65-2 s of 05's
 * printHistory cell and 08's first DataFrame cell. Resolved from the library's own folder, so the cell binds the same
 * module. Other notebooks, and a kernel that does not know its notebook, leave it to the first table.
 */
export function preloadTables(cwd: string, env: NodeJS.ProcessEnv = childEnvironment()): boolean {
  const notebook = sessionNotebook(env, cwd);
  if (!notebook || !notebookBuildsTables(notebook)) return false;
  try {
    require(require.resolve("danfojs-node", { paths: [path.dirname(require.resolve(LIBRARY, { paths: [cwd] }))] }));
    return true;
  } catch {
    return false; // the first table cell reports it where the reader sees it
  }
}

/**
 * Reads the default config's dataset ahead on a worker thread (../data/prefetch): the notebook's loadData then finds
 * it scaled. Only for a notebook that loads data (./notebook-uses): at once when the notebook file says so, otherwise at
 * the first cell that mentions loadData, before that cell runs.
 */
export function prefetchForDataNotebooks(executor: Executor, cwd: string, env: NodeJS.ProcessEnv = childEnvironment()): void {
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    try {
      prefetchDataset(projectPath(resolveConfig({}).dataDir), defaultDecodedCacheDir());
    } catch {
      // a bad FASHION_ANN_* setting: the notebook's startNotebook reports it where the reader sees it
    }
  };
  const notebook = sessionNotebook(env, cwd);
  if (notebook && notebookLoadsData(notebook)) start();
  const execute = executor.execute;
  executor.execute = (src: string) => {
    if (loadsData(src)) start();
    return execute(src);
  };
}

/**
 * A tslab installed below the kernel's folder other than ours: tslab's own rule is that the notebook's local tslab
 * runs the kernel, so this kernel hands over to it unchanged.
 */
function otherLocalTslab(cwd: string): string | undefined {
  try {
    const local = require.resolve("tslab/dist/main.js", { paths: [cwd] });
    return path.resolve(local) === path.resolve(require.resolve("tslab/dist/main.js")) ? undefined : local;
  } catch {
    return undefined;
  }
}

/**
 * The line a cell stopped by ■ ends with, as IPython's KeyboardInterrupt. tslab ends the awaited cell by rejecting it
 * with one shared Error("Interrupted asynchronously") and prints it with its stack, which only names tslab's own
 * createExecutor: a reader took that red trace for the kernel failing (issue 23), while the kernel and every variable
 * are still there (fit stops after its batch and says so on the line above).
 */
export const INTERRUPT_LINE = "KeyboardInterrupt: Interrupted asynchronously (■); the kernel and its variables are kept";

const isTslabInterrupt = (e: unknown): boolean =>
  e instanceof Error && e.message === "Interrupted asynchronously" && /createExecutor/.test(e.stack ?? "");

/** The console tslab's executor prints with: the process's, except that its interrupt error becomes INTERRUPT_LINE. */
function executorConsole(): { log: (...a: unknown[]) => void; error: (...a: unknown[]) => void } {
  return {
    log: console.log,
    error: (...args: unknown[]) =>
      args.length === 1 && isTslabInterrupt(args[0]) ? console.error(INTERRUPT_LINE) : console.error(...args),
  };
}

/**
 * tslab's executor as this kernel builds it: the lean converters (./lean-builder), warmed, and the library loaded.
 * Also what `bench --latency` times cells with.
 */
export function createKernelExecutor(cwd: string): { executor: Executor; inProject: boolean; warmSeconds: number } {
  const converters = new Converters();
  const warmSeconds = warmConverter(converters.node);
  const inProject = preloadLibrary(cwd);
  if (inProject) preloadTables(cwd);
  const { createExecutor } = require("tslab/dist/executor") as typeof import("tslab/dist/executor");
  return { executor: createExecutor(cwd, converters, executorConsole()), inProject, warmSeconds };
}

/** Starts the kernel on the connection file Jupyter passed; the same steps as tslab's startKernel, plus the warm-up. */
export function startKernel(configPath: string): void {
  const local = otherLocalTslab(process.cwd());
  if (local) {
    (require(local) as typeof import("tslab/dist/main")).startKernel({ configPath, enableFindLocal: false });
    return;
  }
  const { executor, inProject } = createKernelExecutor(process.cwd());
  serializeZmqSends();
  // Required after the converters: tslab's converter module must load after lean-builder installed its builder.
  const { JupyterHandlerImpl, ZmqServer } = require("tslab/dist/jupyter") as typeof import("tslab/dist/jupyter");
  const server = new ZmqServer(new JupyterHandlerImpl(executor, false), configPath);
  keepBusyWhileQueued(server);
  process.on("SIGINT", () => executor.interrupt());
  process.on("uncaughtException", (err) => console.error("UncaughtException:", err));
  process.on("unhandledRejection", (reason) => console.error("UnhandledPromiseRejection:", reason));
  server.init();
  if (inProject) prefetchForDataNotebooks(executor, process.cwd());
}

/** `--config-path <file>`, as Jupyter passes it through the kernel spec's argv. */
function configPathArg(argv: string[]): string | undefined {
  const i = argv.indexOf("--config-path");
  return i >= 0 ? argv[i + 1] : undefined;
}

if (require.main === module) {
  const configPath = configPathArg(process.argv.slice(2));
  if (configPath) startKernel(configPath);
  else {
    // Like the render daemon, an entry point Jupyter starts: one sentence and a failing status, no stack trace.
    console.error(
      `kernel: expected --config-path <connection file> (Jupyter's {connection_file}), got "${process.argv.slice(2).join(" ")}"`,
    );
    process.exitCode = 2;
  }
}
