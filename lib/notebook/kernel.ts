/**
 * The project's Jupyter kernel: tslab's TypeScript kernel, started the way `tslab kernel` starts it, with two
 * additions. Before it answers Jupyter, it type-checks `import * as fa from "fashion-ann"` once and throws the result
 * away, and it loads the library's modules (preloadLibrary). tslab's converter is a TypeScript watch program that
 * keeps every .d.ts file it has parsed. The library's types pull in about 700 of them (tfjs alone about 600), and the
 * first cell that imports the library used to parse them all: 2-7 s on a busy 2-core machine. Done during kernel start, that work is hidden while the reader looks at
 * the notebook, or while the runner executes the previous notebook. No cell is executed: the warm-up only compiles,
 * so cells, their variables, interrupt and display behave exactly as in tslab.
 *
 * Registered by scripts/setup.sh as the kernel "tslab" in .jupyter/:
 *     node dist/lib/notebook/kernel.js --config-path {connection_file}
 * tslab is pinned (package.json) because this builds on its internal modules, as its own main.js does.
 */
import * as path from "node:path";
import { type Converter, createConverter } from "tslab/dist/converter";
import { type ConverterSet, createExecutor } from "tslab/dist/executor";
import { JupyterHandlerImpl, ZmqServer } from "tslab/dist/jupyter";
import { resolveConfig } from "../config";
import { defaultDecodedCacheDir } from "../data/decoded-cache";
import { prefetchDataset } from "../data/prefetch";
import { projectPath } from "../io/paths";

/** The library every notebook imports, by the name the notebooks use. */
export const LIBRARY = "fashion-ann";
/** The cell whose type-check is done ahead. */
export const WARM_UP_SOURCE = `import * as fa from "${LIBRARY}";`;

/** tslab's own converter set (main.js keeps it private): one converter per target, created when first asked for. */
class Converters implements ConverterSet {
  private nodeConverter?: Converter;
  private browserConverter?: Converter;
  get node(): Converter {
    this.nodeConverter ??= createConverter({ isJS: false, isBrowser: false });
    return this.nodeConverter;
  }
  get browser(): Converter {
    this.browserConverter ??= createConverter({ isJS: false, isBrowser: true });
    return this.browserConverter;
  }
  close(): void {
    this.nodeConverter?.close();
    this.browserConverter?.close();
  }
}

/**
 * Parses the library's declaration files into the converter's cache. Outside the project (no `fashion-ann` below the
 * kernel's folder) the check reports a missing module, which is ignored: that kernel is then plain tslab.
 */
export function warmConverter(converter: Converter, source: string = WARM_UP_SOURCE): number {
  const started = performance.now();
  converter.convert("", source);
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
 * Reads the default config's dataset ahead on a worker thread (../data/prefetch), once the kernel answers Jupyter:
 * the notebook's loadData then finds it scaled. A notebook that never loads data costs one idle thread's work.
 */
function prefetchDefaultDataset(): void {
  try {
    prefetchDataset(projectPath(resolveConfig({}).dataDir), defaultDecodedCacheDir());
  } catch {
    // a bad FASHION_ANN_* setting: the notebook's startNotebook reports it where the reader sees it
  }
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

/** Starts the kernel on the connection file Jupyter passed; the same steps as tslab's startKernel, plus the warm-up. */
export function startKernel(configPath: string): void {
  const local = otherLocalTslab(process.cwd());
  if (local) {
    (require(local) as typeof import("tslab/dist/main")).startKernel({ configPath, enableFindLocal: false });
    return;
  }
  const converters = new Converters();
  warmConverter(converters.node);
  const inProject = preloadLibrary(process.cwd());
  const executor = createExecutor(process.cwd(), converters, executorConsole());
  const server = new ZmqServer(new JupyterHandlerImpl(executor, false), configPath);
  process.on("SIGINT", () => executor.interrupt());
  process.on("uncaughtException", (err) => console.error("UncaughtException:", err));
  process.on("unhandledRejection", (reason) => console.error("UnhandledPromiseRejection:", reason));
  server.init();
  if (inProject) prefetchDefaultDataset();
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
