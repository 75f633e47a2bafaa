import * as fs from "node:fs";
import * as path from "node:path";
import { cacheDirectory } from "../../config";
import { removeDeadTemps, tempName } from "../../io/atomic";

/**
 * A new PGlite database starts as a copy of an empty one kept in the cache (per PGlite version), not by running
 * initdb: initdb in WebAssembly costs about 6 CPU seconds (a two-trial search of a tiny model is 10 in all), opening a
 * copied folder about 1. Each initdb of one PGlite version writes an equivalent empty cluster (only its system
 * identifier differs), so the copy is what PGlite.create would have made. The copy goes to a hidden temp folder beside
 * `dir` and is renamed into place, so a process killed mid-copy leaves no half cluster under the study's name (the
 * next new study there sweeps it).
 */
export async function copyEmptyCluster(
  dir: string,
  version: string,
  create: (dir: string) => Promise<{ close(): Promise<void> }>,
): Promise<boolean> {
  const template = await emptyCluster(version, create);
  if (!template) return false;
  const parent = path.dirname(dir);
  removeDeadTemps(parent, path.basename(dir));
  const tmp = tempName(dir);
  try {
    fs.cpSync(template, tmp, { recursive: true });
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}

/**
 * The cached empty cluster of this PGlite version, made once (by whichever process gets there first); undefined
 * when it cannot be made or kept (a read-only or full cache), and the caller runs initdb in place as before.
 */
async function emptyCluster(version: string, create: (dir: string) => Promise<{ close(): Promise<void> }>): Promise<string | undefined> {
  const template = path.join(cacheDirectory(), `pglite-${version}-empty`);
  if (fs.existsSync(path.join(template, "PG_VERSION"))) return template;
  const tmp = tempName(template);
  try {
    fs.mkdirSync(path.dirname(template), { recursive: true });
    removeDeadTemps(path.dirname(template), path.basename(template));
    await (await create(tmp)).close();
    fs.renameSync(tmp, template);
  } catch {
    // Another process renamed its copy into place first (ENOTEMPTY), or the cache is not writable (then neither is
    // the temp folder's place, and there is nothing to remove).
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {}
  }
  return fs.existsSync(path.join(template, "PG_VERSION")) ? template : undefined;
}
