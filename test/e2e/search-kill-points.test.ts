// A study SIGKILLed at each step of its life, then run again: every trial completed exactly once, each with all its
// epochs, and no half-written file left (only dead writers' hidden temps, swept by the next write). The kill lands
// exactly at the step: FASHION_ANN_TEST_KILL_POINT makes the process announce the point in a file and stop there
// (lib/io/kill-point.ts), and the test SIGKILLs the whole process group (search and its trainer) once it sees it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type SearchOptions, searchArgs, startSearchWorker } from "./helpers/search";
import { run } from "./spawn";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-kill-points-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const space = path.join(tmp, "space.json");
fs.writeFileSync(space, JSON.stringify({ learningRate: { type: "float", min: 0.01, max: 0.1, sampling: "log" } }));
const TRIALS = 2;
const EPOCHS = 2;
const options = (out: string): SearchOptions => ({ space, maxTrials: TRIALS, maxEpochs: EPOCHS, out, extra: ["--set", "hiddenUnits=[8]"] });

/**
 * Every file under `dir` (relative paths), the embedded database's own files aside. Those are not listed at all:
 * killAt lists the folder ten times a second, and study.pgdata's thousand files made each listing 6.6 ms of CPU.
 */
function filesUnder(dir: string): string[] {
  for (;;) {
    try {
      return fs
        .readdirSync(dir)
        .filter((f) => !f.startsWith("study.pgdata"))
        .flatMap((f) => {
          const sub = path.join(dir, f);
          return fs.statSync(sub).isDirectory()
            ? [f, ...(fs.readdirSync(sub, { recursive: true }) as string[]).map((g) => path.join(f, g))]
            : [f];
        });
    } catch (err) {
      // A trainer renamed a temp folder away while it was listed: list again.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}

/** Runs the search until it stops at `point`, then SIGKILLs its process group; returns the kill point's file. */
async function killAt(point: string, out: string): Promise<string> {
  const search = startSearchWorker(options(out), { FASHION_ANN_TEST_KILL_POINT: point });
  let found: string | undefined;
  while (!found) {
    if (search.child.exitCode !== null) throw new Error(`search exited before reaching ${point}:\n${search.log()}`);
    await new Promise((r) => setTimeout(r, 100));
    found = fs.existsSync(out) ? filesUnder(out).find((f) => path.basename(f).startsWith(".killpoint-")) : undefined;
  }
  search.kill();
  await search.done;
  return found;
}

// Each point, and what a kill there leaves for the re-run to cope with.
const POINTS: [string, string][] = [
  ["study-created", "the study's database made, no trial claimed"],
  ["rename:last.json", "a trial's epoch-001 checkpoint folder written, its pointer not yet switched (a temp last.json)"],
  ["trial-concluded", "between trials: the first trial marked completed, the second not claimed"],
  ["rename:trials.csv", "every trial done, trials.csv half-written (its temp)"],
  ["rename:report.html", "trials.csv written, the final report half-written (its temp)"],
];

describe("a search SIGKILLed at each step, then run again", () => {
  it.each(POINTS)(
    "killed at %s (%s): the re-run completes every trial exactly once, every epoch kept, no temp left",
    async (point) => {
      const out = path.join(tmp, point.replace(/\W/g, "_"));
      const marker = await killAt(point, out);
      fs.rmSync(path.join(out, marker));
      const again = await run(process.execPath, searchArgs(options(out)), { timeout: 600_000 });
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/\n\s+at |This is a bug/);
      const [header, ...rows] = fs.readFileSync(path.join(out, "trials.csv"), "utf8").trim().split("\n");
      const columns = header!.split(",");
      const ids = rows.map((r) => r.split(",")[columns.indexOf("trial")]);
      // Best first in trials.csv: each id once, whatever the order.
      expect([...ids].sort()).toEqual(Array.from({ length: TRIALS }, (_, i) => `trial-00${i}`));
      for (const row of rows) expect(row.split(",")[columns.indexOf("status")], row).toBe("completed");
      for (const id of ids) {
        const history = fs
          .readFileSync(path.join(out, "trials", id!, "history.csv"), "utf8")
          .trim()
          .split("\n");
        expect(history.length - 1, `${id} epochs in history.csv`).toBe(EPOCHS);
        expect(JSON.parse(fs.readFileSync(path.join(out, "trials", id!, "trial.json"), "utf8")).status).toBe("completed");
      }
      expect(fs.readFileSync(path.join(out, "report.html"), "utf8")).toMatch(/<\/html>\s*$/);
      expect(filesUnder(out).filter((f) => /\.(tmp|old)$|\.killpoint-/.test(path.basename(f)))).toEqual([]);
    },
    900_000,
  );
});
