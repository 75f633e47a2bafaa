/**
 * Fashion-MNIST (Zalando Research, MIT licence): 70,000 grayscale 28x28 images of clothing in
 * 10 classes, 60,000 for training and 10,000 for testing.
 *
 * `loadFashionMnist` finds the four .gz files (cache folder, then system folders such as the
 * Debian package's, else downloads them into the cache, ./download), checks each against a pinned
 * SHA-256 and returns the raw uint8 arrays; `splitAndScale` (./split) turns them into the tutorial's
 * train/validation/test sets.
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { NDArray } from "../format/ndarray";
import {
  type DatasetFileSpec,
  type DownloadContext,
  DownloadError,
  type DownloadProgress,
  decodeVerified,
  defaultProgress,
  describeError,
  download,
  errnoCode,
} from "./download";
import { keepDecoded, readDecoded } from "./decoded-cache";
import { DatasetError, parseIdxImages, parseIdxLabels } from "./idx";
import { CLASS_NAMES } from "./images";

/** The four arrays of the dataset. */
export type FashionMnistPart = "trainLabels" | "trainImages" | "testLabels" | "testImages";

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
const DEFAULT_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";
/** A download that receives nothing for this long is abandoned rather than hanging forever. */
const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface LoadFashionMnistOptions {
  /**
   * Cache folder: looked in first, and where downloads go (created if missing). Taken as given (a relative path
   * from the working directory); `loadData` passes config.dataDir resolved against the project root.
   */
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
  /** Folder of decompressed copies (./decoded-cache), read first and filled after a decompression; default none. */
  decodedCacheDir?: string;
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

/** What the loader needs for each file, resolved from the options once. */
interface LoadContext extends DownloadContext {
  systemDirs: readonly string[];
  baseUrl: string;
  decodedCacheDir: string | undefined;
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

/**
 * Finds one file: cache folder, then system folders, else download. A bad cache file is deleted
 * (and so downloaded again, once); a bad system file is reported and skipped.
 * @returns the verified decompressed bytes and where they came from
 */
async function obtainFile(spec: DatasetFileSpec, ctx: LoadContext): Promise<{ bytes: Uint8Array; source: string }> {
  const cacheDir = ctx.decodedCacheDir;
  const decoded = cacheDir ? await readDecoded(cacheDir, spec.sha256) : undefined;
  if (decoded) return { bytes: decoded.bytes, source: decoded.file };
  const found = await obtainCompressed(spec, ctx);
  if (cacheDir) keepDecoded(cacheDir, spec.sha256, found.bytes);
  return found;
}

/** obtainFile from the .gz files: the cache folder, then the system folders, else a download. */
async function obtainCompressed(spec: DatasetFileSpec, ctx: LoadContext): Promise<{ bytes: Uint8Array; source: string }> {
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
    return { bytes: await download(ctx.baseUrl + spec.name, spec, ctx), source: cachePath };
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
    decodedCacheDir: options.decodedCacheDir,
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
