/**
 * Downloading one dataset file: streamed into a temp file beside the cache entry with a stall timeout and
 * progress reports, then verified and renamed, so the cache never holds a partial or unverified file.
 */
import { randomBytes } from "node:crypto";
import * as fsp from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import * as path from "node:path";
import { Presets, SingleBar } from "cli-progress";
import { sha256Hex } from "./decoded-cache";
import { DatasetError, gunzip } from "./idx";
import { UserError } from "../errors/user-error";

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

/** What a download needs, resolved from the loader's options once. */
export interface DownloadContext {
  /** The cache folder the file goes to. */
  dataDir: string;
  fetch: typeof fetch;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  log: (msg: string) => void;
  stallTimeoutMs: number;
}

export const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** An error's message plus its cause's, e.g. "fetch failed (getaddrinfo ENOTFOUND host)". */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as (Error & { code?: string }) | undefined;
  return cause?.message ? `${err.message} (${cause.message})` : err.message;
}

/** Decompresses and checks the pinned hash; throws DatasetError naming the file and both hashes. */
export function decodeVerified(gz: Uint8Array, source: string, spec: DatasetFileSpec): Uint8Array {
  const bytes = gunzip(gz, source);
  const got = sha256Hex(bytes);
  if (got !== spec.sha256.toLowerCase()) {
    throw new DatasetError(`${source}: sha256 ${got} (decompressed), expected ${spec.sha256}.`);
  }
  return bytes;
}

/** Download failures that are the network's fault (as opposed to e.g. an unwritable cache). */
export class DownloadError extends UserError {
  override name = "DownloadError";
}

/**
 * Streams `url` into the open file, reporting progress. Rejects with DownloadError on an HTTP
 * error, a dropped connection, a short body or a stalled transfer.
 */
async function streamToFile(url: string, file: FileHandle, name: string, ctx: DownloadContext): Promise<void> {
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
export async function download(url: string, spec: DatasetFileSpec, ctx: DownloadContext): Promise<Uint8Array> {
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
