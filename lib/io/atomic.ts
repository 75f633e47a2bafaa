import * as fs from "node:fs";
import * as path from "node:path";
import { isProcessAlive } from "./process";

/**
 * Writes a file so that readers see the previous complete file or the new complete one, never a
 * half-written one: the bytes go to a temp file in the same folder (same filesystem), are flushed to
 * disk, then renamed over the target. A process killed mid-write leaves only its hidden
 * `.<name>.<pid>.<ms>.tmp`; the next write of the same file removes such leftovers of dead processes.
 */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, contents);
      // Without it a power loss right after the rename can leave an empty file under the new name.
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  removeDeadTemps(dir, path.basename(file));
}

/** Temp files of `name` left by processes that no longer run (killed between write and rename). */
function removeDeadTemps(dir: string, name: string): void {
  const prefix = `.${name}.`;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(".tmp")) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(entry.slice(prefix.length));
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) fs.rmSync(path.join(dir, entry), { force: true });
  }
}
