/**
 * Decompressed dataset files, kept under their pinned hash so the next load skips gunzip. Decompressing the four
 * Fashion-MNIST files is about 0.3 s of a notebook's data cell and of every CLI command and search trial that loads
 * the data; reading the 55 MB back and checking its SHA-256 is about 0.05 s. The cache is content-addressed by the
 * pinned hash of the decompressed bytes (which does not depend on where the .gz came from), checked on every read,
 * and shared by every checkout on the machine. It is only an accelerator: a missing, damaged or unwritable cache
 * falls back to the .gz files without a word.
 */
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { cacheDirectory } from "../config";
import { writeFileAtomic } from "../io/atomic";

/** `decoded/` in the machine's cache folder for the project (config's cacheDirectory). */
export function defaultDecodedCacheDir(): string {
  return path.join(cacheDirectory(), "decoded");
}

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const entry = (dir: string, sha256: string): string => path.join(dir, `${sha256.toLowerCase()}.idx`);

/**
 * The decompressed bytes pinned by `sha256` (a DatasetFileSpec's) from the cache, or undefined when they are not
 * there or do not match it (a damaged entry is removed, so the next load writes a good one).
 */
export async function readDecoded(dir: string, sha256: string): Promise<{ bytes: Uint8Array; file: string } | undefined> {
  const file = entry(dir, sha256);
  const bytes = await fsp.readFile(file).catch(() => undefined);
  if (!bytes) return undefined;
  if (sha256Hex(bytes) === sha256.toLowerCase()) return { bytes, file };
  await fsp.rm(file, { force: true }).catch(() => undefined);
  return undefined;
}

/** Stores verified decompressed bytes for the next load; a failure (read-only home, full disk) only costs speed. */
export function keepDecoded(dir: string, sha256: string, bytes: Uint8Array): void {
  try {
    writeFileAtomic(entry(dir, sha256), bytes);
  } catch {
    // an accelerator only: the .gz files stay the source of truth
  }
}
