import * as fs from "node:fs";
import * as path from "node:path";
import { isErrnoError, makeFolder, PathError, pathError } from "./fs-errors";
import { killPoint } from "./kill-point";
import { isProcessAlive } from "./process";

/**
 * Writes a file so that readers see the previous complete file or the new complete one, never a
 * half-written one: the bytes go to a temp file in the same folder (same filesystem), are flushed to
 * disk, then renamed over the target. A process killed mid-write leaves only its hidden
 * `.<name>.<pid>.<ms>.tmp`; the next write of the same file removes such leftovers of dead processes.
 * A failed write (disk full, read-only, a file where a folder should be) throws a PathError saying so
 * and what was kept.
 */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  const dir = path.dirname(file);
  const existed = fs.existsSync(file);
  const tmp = tempName(file);
  try {
    makeFolder(dir);
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, contents);
      // Without it a power loss right after the rename can leave an empty file under the new name.
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    killPoint(`rename:${path.basename(file)}`, dir);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (err instanceof PathError) throw err;
    if (!isErrnoError(err)) throw err;
    throw pathError(err, file, existed ? "the previous complete file is kept" : "nothing was written");
  }
  removeDeadTemps(dir, path.basename(file));
}

/** `.<name>.<pid>.<ms>.tmp` beside `target`: hidden, and naming its writer so a dead one's can be swept. */
export function tempName(target: string, suffix: "tmp" | "old" = "tmp"): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.${suffix}`);
}

/** The leftovers `.<name>.<pid>.<ms>.(tmp|old)` in `dir` whose writer no longer runs, oldest first. */
export function deadTemps(dir: string, name: string, suffix: "tmp" | "old"): string[] {
  const prefix = `.${name}.`;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: { file: string; ms: number }[] = [];
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(\d+)\.(\d+)\.(tmp|old)$/.exec(entry.slice(prefix.length));
    if (m && m[3] === suffix && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1])))
      found.push({ file: path.join(dir, entry), ms: Number(m[2]) });
  }
  return found.sort((a, b) => a.ms - b.ms).map((f) => f.file);
}

/** Removes the temp files (or folders) of `name` left by processes that no longer run (killed mid-write). */
export function removeDeadTemps(dir: string, name: string, suffixes: ("tmp" | "old")[] = ["tmp"]): void {
  for (const suffix of suffixes) for (const f of deadTemps(dir, name, suffix)) fs.rmSync(f, { recursive: true, force: true });
}
