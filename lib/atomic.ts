import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Writes a file so that readers see the previous complete file or the new complete one, never a
 * half-written one: the bytes go to a temp file in the same folder (same filesystem), then rename.
 */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
