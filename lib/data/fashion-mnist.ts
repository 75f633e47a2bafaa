/**
 * Fashion-MNIST (Zalando Research, MIT licence): 70,000 grayscale 28x28 images of clothing in
 * 10 classes, 60,000 for training and 10,000 for testing.
 *
 * `loadFashionMnist` finds the four .gz files (cache folder, then system folders such as the
 * Debian package's, else downloads them into the cache), checks each against a pinned SHA-256
 * and returns the raw uint8 arrays; `splitAndScale` turns them into the tutorial's
 * train/validation/test sets.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { NDArray } from "../format/ndarray";
import { DatasetError, gunzip, parseIdxImages, parseIdxLabels } from "./idx";

/** Class names in label order: label 0 is "T-shirt/top", label 9 is "Ankle boot". */
export const CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** The four arrays of the dataset. */
export type FashionMnistPart = "trainLabels" | "trainImages" | "testLabels" | "testImages";

/** One dataset file: its name and the SHA-256 of its decompressed bytes. */
export interface DatasetFileSpec {
  /** File name, both in the cache folder and under the download URL. */
  name: string;
  /**
   * Lower-case hex SHA-256 of the DECOMPRESSED bytes. The .gz bytes differ between sources
   * (Debian recompresses them), the IDX bytes inside do not.
   */
  sha256: string;
}

/** The files Keras downloads, with pinned hashes. Loading order is the order of the keys. */
export const FASHION_MNIST_FILES: Readonly<Record<FashionMnistPart, DatasetFileSpec>> = Object.freeze({
  trainLabels: { name: "train-labels-idx1-ubyte.gz", sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9" },
  trainImages: { name: "train-images-idx3-ubyte.gz", sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888" },
  testLabels: { name: "t10k-labels-idx1-ubyte.gz", sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34" },
  testImages: { name: "t10k-images-idx3-ubyte.gz", sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b" },
});

/** Where `apt-get install dataset-fashion-mnist` puts the files. */
export const DEFAULT_SYSTEM_DIRS: readonly string[] = Object.freeze(["/usr/share/datasets/fashion-mnist"]);
/** The mirror `keras.datasets.fashion_mnist.load_data()` downloads from. */
export const DEFAULT_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";
/** A download that receives nothing for this long is abandoned rather than hanging forever. */
const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** One progress report of a download. */
export interface DownloadProgress {
  /** File name, e.g. "train-images-idx3-ubyte.gz". */
  file: string;
  /** Bytes received so far. */
  received: number;
  /** Size announced by the server (Content-Length), undefined if it did not say. */
  total: number | undefined;
  /** True on the last report of this file, whether the download succeeded or failed. */
  done: boolean;
}

export interface LoadFashionMnistOptions {
  /** Cache folder: looked in first, and where downloads go (created if missing). Usually config.dataDir. */
  dataDir: string;
  /** Read-only folders looked in after dataDir; bad files there are reported, never deleted. */
  systemDirs?: readonly string[];
  /** Download URL prefix; a file's URL is baseUrl + file name. */
  baseUrl?: string;
  /** fetch implementation; tests inject one serving tiny files. */
  fetch?: typeof fetch;
  /** Called as a download progresses; default a cli-progress bar when stderr is a terminal, else none. */
  onProgress?: (p: DownloadProgress) => void;
  /** Receives one line per notable event (download started, bad file found); default console.error. */
  log?: (msg: string) => void;
  /** File names and pinned hashes; tests inject their own. */
  files?: Readonly<Record<FashionMnistPart, DatasetFileSpec>>;
  /** Expected image side in pixels (default 28); tests use tiny images. */
  imageSize?: number;
  /** Labels must lie in 0..numClasses-1 (default 10). */
  numClasses?: number;
  /** Abandon a download after this many milliseconds without data (default 60 s). */
  stallTimeoutMs?: number;
}

/** The dataset as stored: uint8 pixels 0..255 and uint8 labels 0..9. */
export interface FashionMnistRaw {
  /** uint8, shape [60000, 28, 28] */
  trainImages: NDArray<Uint8Array>;
  /** uint8 class indices, shape [60000] */
  trainLabels: NDArray<Uint8Array>;
  /** uint8, shape [10000, 28, 28] */
  testImages: NDArray<Uint8Array>;
  /** uint8 class indices, shape [10000] */
  testLabels: NDArray<Uint8Array>;
  /** CLASS_NAMES: the name of each label. */
  classNames: readonly string[];
}

/** Images scaled to float32 plus their labels. */
export interface LabeledSet {
  /** float32 pixel intensities in 0..1, shape [n, 28, 28] */
  x: NDArray<Float32Array>;
  /** uint8 class indices 0..9, shape [n] */
  y: NDArray<Uint8Array>;
}

export interface FashionMnistSplits {
  train: LabeledSet;
  valid: LabeledSet;
  test: LabeledSet;
  classNames: readonly string[];
}

/** What the loader needs for each file, resolved from the options once. */
interface LoadContext {
  dataDir: string;
  systemDirs: readonly string[];
  baseUrl: string;
  fetch: typeof fetch;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  log: (msg: string) => void;
  stallTimeoutMs: number;
}

const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** An error's message plus its cause's, e.g. "fetch failed (getaddrinfo ENOTFOUND host)". */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as (Error & { code?: string }) | undefined;
  return cause?.message ? `${err.message} (${cause.message})` : err.message;
}

/** Decompresses and checks the pinned hash; throws DatasetError naming the file and both hashes. */
function decodeVerified(gz: Uint8Array, source: string, spec: DatasetFileSpec): Uint8Array {
  const bytes = gunzip(gz, source);
  const got = sha256Hex(bytes);
  if (got !== spec.sha256.toLowerCase()) {
    throw new DatasetError(`${source}: sha256 ${got} (decompressed), expected ${spec.sha256}.`);
  }
  return bytes;
}

/** Reads a file, or returns undefined if it does not exist. */
async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** Download failures that are the network's fault (as opposed to e.g. an unwritable cache). */
class DownloadError extends Error {}

/**
 * Streams `url` into the open file, reporting progress. Rejects with DownloadError on an HTTP
 * error, a dropped connection, a short body or a stalled transfer.
 */
async function streamToFile(url: string, file: FileHandle, name: string, ctx: LoadContext): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new DownloadError(`no data received for ${ctx.stallTimeoutMs / 1000} s`)),
      ctx.stallTimeoutMs,
    );
  };
  let received = 0;
  let total: number | undefined;
  let reporting = false;
  try {
    arm();
    let res: Response;
    try {
      // identity: the .gz must arrive byte for byte, not transparently decompressed by fetch.
      res = await ctx.fetch(url, { signal: controller.signal, headers: { "accept-encoding": "identity" } });
    } catch (err) {
      throw new DownloadError(describeError(controller.signal.reason ?? err), { cause: err });
    }
    if (!res.ok) throw new DownloadError(`HTTP ${res.status} ${res.statusText}`.trim());
    if (!res.body) throw new DownloadError("the response has no body");
    const length = res.headers.get("content-length");
    total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    reporting = true;
    ctx.onProgress?.({ file: name, received, total, done: false });
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new DownloadError(`connection lost after ${received} bytes: ${describeError(controller.signal.reason ?? err)}`, {
          cause: err,
        });
      }
      if (chunk.done) break;
      arm();
      await file.write(chunk.value);
      received += chunk.value.length;
      ctx.onProgress?.({ file: name, received, total, done: false });
    }
    if (total !== undefined && received !== total) {
      throw new DownloadError(`connection closed after ${received} of ${total} bytes`);
    }
  } finally {
    clearTimeout(timer);
    if (reporting) ctx.onProgress?.({ file: name, received, total, done: true });
  }
}

/**
 * Downloads one file into the cache folder: streamed to a temp file beside the target, verified,
 * then renamed, so the cache never holds a partial or unverified file.
 * @returns the decompressed bytes
 */
async function download(spec: DatasetFileSpec, ctx: LoadContext): Promise<Uint8Array> {
  const url = ctx.baseUrl + spec.name;
  const dest = path.join(ctx.dataDir, spec.name);
  const tmp = path.join(ctx.dataDir, `.${spec.name}.${process.pid}-${randomBytes(4).toString("hex")}.part`);
  let file: FileHandle;
  try {
    await fsp.mkdir(ctx.dataDir, { recursive: true });
    file = await fsp.open(tmp, "wx");
  } catch (err) {
    throw new DatasetError(
      `cannot write to the cache folder ${ctx.dataDir} (${describeError(err)}); make it writable or pass another dataDir`,
      { cause: err },
    );
  }
  try {
    ctx.log(`Downloading ${url} to ${dest}`);
    try {
      await streamToFile(url, file, spec.name, ctx);
    } finally {
      await file.close();
    }
    const bytes = decodeVerified(await fsp.readFile(tmp), url, spec);
    await fsp.rename(tmp, dest);
    return bytes;
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Finds one file: cache folder, then system folders, else download. A bad cache file is deleted
 * (and so downloaded again, once); a bad system file is reported and skipped.
 * @returns the verified decompressed bytes and where they came from
 */
async function obtainFile(spec: DatasetFileSpec, ctx: LoadContext): Promise<{ bytes: Uint8Array; source: string }> {
  const looked: string[] = [];
  const cachePath = path.join(ctx.dataDir, spec.name);
  const candidates = [
    { file: cachePath, isCache: true },
    ...ctx.systemDirs.map((dir) => ({ file: path.join(dir, spec.name), isCache: false })),
  ];
  for (const { file, isCache } of candidates) {
    let gz: Uint8Array | undefined;
    try {
      gz = await readIfExists(file);
    } catch (err) {
      looked.push(`${file}: unreadable (${describeError(err)})`);
      ctx.log(`${file}: unreadable (${describeError(err)}); trying the next place.`);
      continue;
    }
    if (gz === undefined) {
      looked.push(`${file}: not found`);
      continue;
    }
    try {
      return { bytes: decodeVerified(gz, file, spec), source: file };
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      if (isCache) {
        const removed = await fsp.rm(file, { force: true }).then(
          () => "Deleted it; looking for a good copy elsewhere.",
          (rmErr: unknown) => `Could not delete it (${describeError(rmErr)}); trying the next place.`,
        );
        looked.push(`${file}: invalid${removed.startsWith("Deleted") ? ", deleted" : ""}`);
        ctx.log(`${err.message} ${removed}`);
      } else {
        // System files belong to a package manager: report them, never delete them.
        looked.push(`${file}: invalid, skipped`);
        ctx.log(`${err.message} Skipping it (left in place; \`apt-get install --reinstall dataset-fashion-mnist\` repairs it).`);
      }
    }
  }
  try {
    return { bytes: await download(spec, ctx), source: cachePath };
  } catch (err) {
    if (!(err instanceof DatasetError || err instanceof DownloadError)) throw err;
    const reason = (err instanceof DownloadError ? `downloading ${ctx.baseUrl + spec.name} failed: ${err.message}` : err.message).replace(
      /\.$/,
      "",
    );
    throw new DatasetError(
      [
        `Fashion-MNIST file ${spec.name} is not available. Looked in:`,
        ...looked.map((l) => `  - ${l}`),
        // A reason ending in a question ("...renamed to .gz?") keeps its "?" instead of gaining a ".".
        `and ${reason}${reason.endsWith("?") ? "" : "."}`,
        `Get the files one of two ways:`,
        `  1. apt-get install dataset-fashion-mnist   (installs them into ${DEFAULT_SYSTEM_DIRS[0]})`,
        `  2. download the four files from ${ctx.baseUrl} into ${ctx.dataDir}/`,
      ].join("\n"),
      { cause: err },
    );
  }
}

/**
 * Makes an onProgress callback that draws one cli-progress bar per downloaded file.
 * @param stream where to draw; default process.stderr
 */
export function createProgressBar(stream: NodeJS.WritableStream = process.stderr): (p: DownloadProgress) => void {
  let bar: SingleBar | undefined;
  let current: string | undefined;
  const size = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);
  return (p) => {
    if (p.file !== current) {
      bar?.stop();
      bar = new SingleBar(
        { format: `${p.file} [{bar}] {percentage}% | {got} / {size} | ETA {eta}s`, stream, hideCursor: true },
        Presets.shades_classic,
      );
      bar.start(p.total ?? 0, 0, { got: size(0), size: p.total === undefined ? "?" : size(p.total) });
      current = p.file;
    }
    // Without a Content-Length the bar just tracks what has arrived.
    if (p.total === undefined) bar?.setTotal(p.received);
    bar?.update(p.received, { got: size(p.received) });
    if (p.done) {
      bar?.stop();
      bar = undefined;
      current = undefined;
    }
  };
}

/** The default progress display: a bar when stderr is a terminal, nothing otherwise (logs, CI, notebooks). */
export function defaultProgress(): ((p: DownloadProgress) => void) | undefined {
  return process.stderr.isTTY ? createProgressBar(process.stderr) : undefined;
}

/**
 * Loads Fashion-MNIST as Keras's `fashion_mnist.load_data()` does, from the first verified copy:
 * `dataDir`, then `systemDirs`, else a download into `dataDir`.
 * @returns uint8 arrays: train images [60000, 28, 28], train labels [60000], test images
 *   [10000, 28, 28], test labels [10000], plus the class names
 * @throws DatasetError if a file is missing everywhere and cannot be downloaded, or is malformed
 */
export async function loadFashionMnist(options: LoadFashionMnistOptions): Promise<FashionMnistRaw> {
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const ctx: LoadContext = {
    dataDir: options.dataDir,
    systemDirs: options.systemDirs ?? DEFAULT_SYSTEM_DIRS,
    baseUrl: baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`,
    fetch: options.fetch ?? globalThis.fetch,
    onProgress: "onProgress" in options ? options.onProgress : defaultProgress(),
    log: options.log ?? ((msg) => console.error(msg)),
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
  };
  if ((await fsp.stat(ctx.dataDir).catch(() => undefined))?.isDirectory() === false)
    throw new DatasetError(
      `dataDir (--data-dir) ${ctx.dataDir} is a file, expected a folder for the dataset; pass a folder (it is created if missing)`,
    );
  const files = options.files ?? FASHION_MNIST_FILES;
  const parseOptions = { imageSize: options.imageSize, numClasses: options.numClasses };
  const load = async (part: FashionMnistPart): Promise<NDArray<Uint8Array>> => {
    const { bytes, source } = await obtainFile(files[part], ctx);
    return part.endsWith("Images") ? parseIdxImages(bytes, source, parseOptions) : parseIdxLabels(bytes, source, parseOptions);
  };
  // Sequential on purpose: at most one download at a time, one progress bar at a time.
  const trainLabels = await load("trainLabels");
  const trainImages = await load("trainImages");
  const testLabels = await load("testLabels");
  const testImages = await load("testImages");
  checkSameCount(trainImages, trainLabels, files.trainImages.name, files.trainLabels.name);
  checkSameCount(testImages, testLabels, files.testImages.name, files.testLabels.name);
  return { trainImages, trainLabels, testImages, testLabels, classNames: CLASS_NAMES };
}

function checkSameCount(images: NDArray<Uint8Array>, labels: NDArray<Uint8Array>, imagesName: string, labelsName: string): void {
  if (images.shape[0] !== labels.shape[0]) {
    throw new DatasetError(
      `${imagesName} has ${images.shape[0]} images but ${labelsName} has ${labels.shape[0]} labels; expected the same count.`,
    );
  }
}

/** Copies images [start, end) into float32, divided by 255. */
function scaleImages(images: NDArray<Uint8Array>, start: number, end: number): NDArray<Float32Array> {
  const src = images.slice(start, end);
  const out = new Float32Array(src.size);
  // Pixel intensities 0..255 become 0..1: gradient descent works best when inputs are small
  // and on a common scale, as in the tutorial's `X_train_full / 255.`.
  for (let i = 0; i < src.data.length; i++) out[i] = src.data[i] / 255;
  return new NDArray(out, src.shape);
}

function sliceSet(images: NDArray<Uint8Array>, labels: NDArray<Uint8Array>, start: number, end: number): LabeledSet {
  // Labels are copied so the sets stay valid even if the caller reuses the raw buffers.
  return { x: scaleImages(images, start, end), y: new NDArray(labels.data.slice(start, end)) };
}

/**
 * The tutorial's split and scaling:
 * `X_valid, X_train = X_train_full[:5000] / 255., X_train_full[5000:] / 255.` and `X_test / 255.`.
 * The FIRST `validationSize` training images become the validation set.
 * @returns float32 images in 0..1 ([n, 28, 28]) and uint8 labels ([n]) for train, valid and test
 * @throws DatasetError if validationSize is not an integer in 0..(training images - 1)
 */
export function splitAndScale(raw: FashionMnistRaw, validationSize: number): FashionMnistSplits {
  const n = raw.trainImages.shape[0];
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= n) {
    throw new DatasetError(`validationSize ${validationSize}: expected an integer from 0 to ${n - 1} (there are ${n} training images).`);
  }
  return {
    valid: sliceSet(raw.trainImages, raw.trainLabels, 0, validationSize),
    train: sliceSet(raw.trainImages, raw.trainLabels, validationSize, n),
    test: sliceSet(raw.testImages, raw.testLabels, 0, raw.testImages.shape[0]),
    classNames: raw.classNames,
  };
}
