import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../../io/atomic";
import { UserError } from "../../errors/user-error";

/*
 * Multi-threaded wasm in Node (tfjs 4.22); `npx fashion-ann bench` shows what it gains on a machine.
 * tfjs hard-codes WASM_HAS_MULTITHREAD_SUPPORT to false in Node (tensorflow/tfjs#3830). The threaded
 * SIMD binary does run there once three browser assumptions are met while the backend initialises:
 * 1. Emscripten starts its pthreads with `new Worker(url)`, and tfjs hands it a `blob:` URL of the
 *    worker script it inlines; Node's Worker only takes file paths. So createObjectURL answers with
 *    a real file holding that script.
 * 2. That worker script then loads the main script from a Blob posted to it, again through a
 *    `blob:` URL; the copy written to disk imports the package's own wasm-out/ script file instead
 *    (the Blob holds the bundled copy, which refers to the bundle's private `require$$N` names).
 * 3. The C++ side caps its thread pool by the logical cores Emscripten reports (os.cpus() in Node),
 *    halved; on a 2-core machine that is 1. Reporting enough cores during init lets `threads` stand.
 * All three patches are undone as soon as the backend is ready.
 */

class WasmThreadsError extends UserError {
  override name = "WasmThreadsError";
}

const WORKER_MARKER = "ENVIRONMENT_IS_PTHREAD";
// What the inlined worker script does with a posted Blob; Node cannot import a blob: URL.
const WORKER_BLOB_IMPORT = "var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)";

/**
 * Starts the wasm backend with `threads` XNNPACK threads (1 = tfjs's default in Node). initBackend
 * calls it for the config's `threads` before installing the project's kernels. Costs ~70 MB and
 * ~0.1 s at start.
 * @returns the thread count the backend reports
 * @throws WasmThreadsError if the wasm backend already runs, or this tfjs version's scripts differ
 */
export async function enableWasmThreads(threads: number): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1) throw new WasmThreadsError(`threads must be a positive integer, got ${threads}`);
  const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
  if (tf.engine().registry.wasm) {
    if (wasm.getThreadsCount() === threads) return threads;
    throw new WasmThreadsError(
      `the wasm backend is already running with ${wasm.getThreadsCount()} thread(s); call enableWasmThreads(${threads}) before initBackend`,
    );
  }
  if (threads === 1) return 1;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-wasm-threads-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const mainScript = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const workerScript = path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.js");

  const restore = patchDuring({ mainScript, workerScript, cores: threads * 2 });
  try {
    if (!(await tf.setBackend("wasm"))) throw new WasmThreadsError('tf.setBackend("wasm") returned false with threads enabled');
    await tf.ready();
  } finally {
    restore();
  }
  const got = wasm.getThreadsCount();
  unrefThreadWorkers();
  if (!fs.existsSync(workerScript)) {
    throw new WasmThreadsError(
      `the wasm backend started without loading its threaded script (threads: ${got}); tfjs's wasm loader has changed`,
    );
  }
  return got;
}

/**
 * XNNPACK's pool threads live as long as the process, and Emscripten keeps a Node Worker ref'd while
 * its thread runs, so a script that has finished would never exit. The pool threads only wait for
 * work the main thread hands them, so they must not keep the process alive.
 */
function unrefThreadWorkers(): void {
  const module = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: Array<{ unref?: () => void }> } } }).wasm;
  const workers = module?.PThread?.runningWorkers;
  if (!workers) throw new WasmThreadsError("the wasm backend does not expose its pthread workers; tfjs's wasm loader has changed");
  for (const worker of workers) worker.unref?.();
}

/** Installs the three init-time patches; returns the function that undoes them. */
function patchDuring(o: { mainScript: string; workerScript: string; cores: number }): () => void {
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  // The module object itself (not an import namespace copy), which Emscripten's os.cpus() call reads.
  const osModule = require("node:os") as typeof os;
  const originalCpus = osModule.cpus;
  const texts = new WeakMap<Blob, string>();

  // URL.createObjectURL must answer synchronously, and a Blob's text can only be read asynchronously.
  globalThis.Blob = class TextCapturingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === "string")) texts.set(this, parts.join(""));
    }
  };
  URL.createObjectURL = (obj: Blob): string => {
    const text = texts.get(obj);
    if (text === undefined || !text.includes(WORKER_MARKER)) return originalCreate(obj);
    if (!text.includes(WORKER_BLOB_IMPORT))
      throw new WasmThreadsError("tfjs-backend-wasm's worker script has changed; cannot load it from a file");
    writeFileAtomic(o.workerScript, text.replace(WORKER_BLOB_IMPORT, `importScripts(${JSON.stringify(o.mainScript)})`));
    return o.workerScript;
  };
  const cpus = originalCpus();
  osModule.cpus = () => (cpus.length >= o.cores ? cpus : Array.from({ length: o.cores }, (_, i) => cpus[i % cpus.length]!));
  return () => {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
    osModule.cpus = originalCpus;
  };
}
