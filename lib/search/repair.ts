import * as fs from "node:fs";
import * as path from "node:path";
import { trialDir } from "./driver";
import type { SqlStudyStore } from "./storage";

/** A JSON file of a run folder, or undefined when it is missing or damaged (then there is nothing to repair from). */
function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * Trials the study recorded `failed` whose run folder says they completed (trial.json `completed`, history.json with
 * every epoch the trial was meant to train) are marked completed again, with that history. Two `search` commands on
 * one embedded study, before it was locked, left such trials; a re-run sets the study, and so trials.csv, right.
 * Returns the ids repaired.
 */
export async function repairFromRunFolders(store: SqlStudyStore, out: string): Promise<string[]> {
  const repaired: string[] = [];
  for (const t of (await store.load()).trials.filter((t) => t.status === "failed")) {
    const dir = trialDir(out, t.id);
    const trial = readJson<{ status?: string }>(path.join(dir, "trial.json"));
    const history = readJson<{ epoch?: number[]; history?: Record<string, number[]> }>(path.join(dir, "history.json"));
    if (trial?.status !== "completed" || !history?.history || (history.epoch?.length ?? 0) < t.epochsTarget) continue;
    // history.json has no NaN (JSON): a null epoch is a diverged one.
    const metrics = Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v.map((x) => x ?? Number.NaN)]));
    if (await store.repairCompleted(t.id, metrics)) repaired.push(t.id);
  }
  return repaired;
}
