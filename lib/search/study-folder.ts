import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { StudyStorageError } from "./storage";

/**
 * A study folder belongs to one study. Trial ids restart at trial-000 in every study, and a trial's run folder is
 * <out>/trials/<id>, trained with --force: a second study (another --study name, or another --storage) given the
 * same --out would train over the first one's run folders. `study.json` names the folder's study; a folder made
 * before it existed is claimed by the study that already has trials in the store.
 */
export const STUDY_FOLDER_FILE = "study.json";

interface FolderStudy {
  study: string;
}

function readFolderStudy(file: string): FolderStudy | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as FolderStudy;
    if (typeof parsed.study === "string") return parsed;
  } catch {
    // reported below
  }
  throw new StudyStorageError(
    `${file} is not a study folder's name file (${JSON.stringify(text.slice(0, 80))}); expected {"study": "<name>"}`,
  );
}

/** Run folders under <out>/trials (their logs aside). */
function trialFolders(out: string): string[] {
  try {
    return fs
      .readdirSync(path.join(out, "trials"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/**
 * Claims `out` for study `name` (writing study.json the first time), or refuses in one sentence when the folder
 * holds another study's trials. `hasTrials`: the store already knows trials of this study (it made them).
 */
export function claimStudyFolder(out: string, name: string, hasTrials: boolean): void {
  const file = path.join(out, STUDY_FOLDER_FILE);
  const owner = readFolderStudy(file);
  if (owner?.study === name) return;
  if (owner) {
    throw new StudyStorageError(
      `${out} holds the trials of study "${owner.study}", and study "${name}" would train over them (trial ids restart in every study); ` +
        `give study "${name}" another --out, or use --study ${owner.study} to continue that one`,
    );
  }
  const found = trialFolders(out);
  if (found.length > 0 && !hasTrials) {
    throw new StudyStorageError(
      `${out} holds ${found.length} trial run folder(s) (${found.slice(0, 3).join(", ")}) that study "${name}" does not know, and its trials would train over them; ` +
        `give it another --out, or the --study name (and --storage) that made them`,
    );
  }
  writeFileAtomic(file, `${JSON.stringify({ study: name })}\n`);
}
