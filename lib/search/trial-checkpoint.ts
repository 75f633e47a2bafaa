import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { type CheckpointFiles, type SqlStudyStore, StudyStorageError } from "./storage";

// A trial's checkpoint travels between its run folder and the study database, so that a worker on another machine
// (or with another --out) can continue the trial.

/**
 * What `train --resume` needs of a trial's run folder: config.json, trial.json, the checkpoint pointers and the
 * epoch folders they name. Read while the trainer may be writing the next epoch; undefined when a folder vanished
 * mid-read (pruned: the next look takes the newer epoch). Epoch folders are renamed into place complete, so what
 * is read is a whole checkpoint.
 */
export function readCheckpointFiles(dir: string): CheckpointFiles | undefined {
  const files: CheckpointFiles = {};
  try {
    const pointers = ["last.json", "best.json"].filter((p) => p === "last.json" || fs.existsSync(path.join(dir, "checkpoints", p)));
    const folders = new Set<string>();
    for (const p of pointers) {
      const text = fs.readFileSync(path.join(dir, "checkpoints", p));
      files[`checkpoints/${p}`] = text;
      folders.add((JSON.parse(text.toString("utf8")) as { dir: string }).dir);
    }
    for (const f of folders) {
      for (const name of fs.readdirSync(path.join(dir, "checkpoints", f))) {
        files[`checkpoints/${f}/${name}`] = fs.readFileSync(path.join(dir, "checkpoints", f, name));
      }
    }
    for (const name of ["config.json", "trial.json"]) {
      if (fs.existsSync(path.join(dir, name))) files[name] = fs.readFileSync(path.join(dir, name));
    }
    return files;
  } catch (err) {
    // Only a folder the trainer pruned mid-read is expected; EACCES, EIO or a damaged pointer is a real failure.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes a stored checkpoint into a trial's (new) run folder, pointers last so a half-restored folder has none. */
function restoreCheckpointFiles(dir: string, files: CheckpointFiles): void {
  const names = Object.keys(files).sort((a, b) => Number(a.endsWith("last.json")) - Number(b.endsWith("last.json")));
  for (const name of names) {
    if (name.split("/").includes("..") || path.isAbsolute(name))
      throw new StudyStorageError(`stored checkpoint file name ${name} leaves ${dir}`);
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileAtomic(path.join(dir, name), files[name]!);
  }
}

/**
 * Makes sure a continued trial has its checkpoint in this machine's run folder: kept there, or restored from the
 * study database (the trial ran on another machine, or --out changed). False when neither has it.
 */
export async function ensureTrialCheckpoint(store: SqlStudyStore, id: string, dir: string): Promise<"local" | "restored" | false> {
  if (fs.existsSync(path.join(dir, "checkpoints", "last.json"))) return "local";
  const files = await store.loadCheckpoint(id);
  if (!files?.["checkpoints/last.json"]) return false;
  restoreCheckpointFiles(dir, files);
  return "restored";
}
