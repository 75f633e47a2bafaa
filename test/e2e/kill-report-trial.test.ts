// SIGKILL the report writer and the tuner's trial.json writer at seeded random moments of their writes, as
// kill-writer.test.ts does for the model, checkpoints and history. After every kill the target is absent or
// a complete earlier version, and every leftover is the killed writer's hidden `.<name>.<pid>.<ms>.tmp`,
// which the next write of that file removes. Each test asserts that some kills landed mid-write (left such a
// temp file), so it cannot pass by killing too early or too late. The tuner's other record, the study
// database (PGlite), has no temp files: after kills inside its transactions it must open, hold every trial a
// writer saw finish, and let the next worker take back the killed writers' trials.
// The children use the built library (dist/), as the CLI does.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import { SqlStudyStore } from "../../lib/search/storage";
import { TunerSpec } from "../../lib/search/tuner";
import { openPglite } from "../../lib/search/storage/pglite";
import { seededRandom } from "../../lib/train/shuffle";
import { ROOT as root, runCli } from "./spawn";

const dist = path.join(root, "dist", "lib");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-kill-rec-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A real report of a run folder into an output folder, forever. It announces each atomic write on stdout
 * (a pipe, so synchronously) just before it starts, so the parent can aim its kill at the write: a report
 * spends seconds computing and rendering and milliseconds writing. The write itself is the library's.
 */
const REPORT_WRITER = `
const atomic = require(${JSON.stringify(path.join(dist, "io", "atomic.js"))});
const { writeRunReport } = require(${JSON.stringify(path.join(dist, "runs", "report.js"))});
const real = atomic.writeFileAtomic;
atomic.writeFileAtomic = (file, contents) => {
  process.stdout.write("write " + require("node:path").basename(file) + "\\n");
  real(file, contents);
};
const [runDir, outDir] = process.argv.slice(1);
(async () => {
  for (;;) await writeRunReport(runDir, { outDir, log: () => {} });
})();`;

/**
 * The tuner's trial.json writer (SearchWorker.writeStatus), forever; each version's history is params.n long. Like
 * the report writer it announces each atomic write just before it starts: a version takes about a second to
 * build and a tenth of that to write, so kills at moments random over the whole loop landed mid-write 3 times in
 * 45 (102 s); aimed at the write, most do.
 */
const TRIAL_WRITER = `
const atomic = require(${JSON.stringify(path.join(dist, "io", "atomic.js"))});
const real = atomic.writeFileAtomic;
atomic.writeFileAtomic = (file, contents) => {
  process.stdout.write("write\\n");
  real(file, contents);
};
const { SearchWorker } = require(${JSON.stringify(path.join(dist, "search", "driver.js"))});
const dir = process.argv[1];
// TensorBoard off: this test is about trial.json; the event files are append-only and have their own kill test.
const store = { definition: { objective: { name: "val_loss", direction: "minimize" }, fixed: { tensorBoard: false } } };
const worker = new SearchWorker(store, { log: () => {} });
for (let i = 0; ; i++) {
  // Long histories make a write take long enough for random kills to land in it.
  const n = 400000 + (i % 5) * 20000;
  worker.writeStatus(dir, "trial-1", { kind: "start", params: { i, n } }, Array.from({ length: n }, (_, e) => 1 / (e + 1)), "running");
}`;

/**
 * The tuner's other record, the study database (PGlite): claims, records two epochs and finishes trials as fast as
 * it can, announcing each step's start (`begin n`) and end (`end n`) on stdout.
 */
const STUDY_WRITER = `
const d = ${JSON.stringify(path.join(dist, "search"))};
const { SqlStudyStore } = require(d + "/storage/index.js");
const { openPglite } = require(d + "/storage/pglite.js");
const { objectiveFor } = require(d + "/core/objective.js");
const { parseSearchSpace } = require(d + "/core/space.js");
const { TunerSpec } = require(d + "/tuner.js");
const def = { name: "kill", tuner: TunerSpec.parse({ kind: "random", maxTrials: 100000, maxEpochs: 2, seed: 7 }),
  space: parseSearchSpace({ learningRate: { type: "float", min: 0.001, max: 0.1, log: true } }, ["learningRate"]),
  objective: objectiveFor("val_accuracy"), fixed: {} };
(async () => {
  const store = await SqlStudyStore.open(await openPglite(process.argv[1]), def);
  process.stdout.write("ready\\n");
  for (let n = 0; ; n++) {
    process.stdout.write("begin " + n + "\\n");
    const a = await store.claim("W" + process.pid, 3600);
    if (a.kind !== "start" && a.kind !== "continue") throw new Error("unexpected " + a.kind);
    for (let e = 1; e <= 2; e++) {
      const h = Array.from({ length: e }, (_, i) => 0.5 + i / 10);
      await store.recordEpochs("W" + process.pid, a.trialId, h, { val_accuracy: h, loss: h });
    }
    await store.finish("W" + process.pid, a.trialId, "completed");
    process.stdout.write("end " + a.trialId + "\\n");
  }
})();`;

/**
 * Runs `script` with `args` in its own process group, SIGKILLs the group `delayMs` after the `nth` stdout line
 * matching `cue` (its Chromium too), and resolves to the writer's pid once it is gone.
 */
function killAfter(script: string, args: string[], cue: RegExp, nth: number, delayMs: number, lines: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let err = "";
    let out = "";
    let seen = 0;
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const fresh = out.split("\n");
      out = fresh.pop()!;
      lines.push(...fresh);
      for (const line of fresh) if (cue.test(line) && ++seen === nth) setTimeout(() => process.kill(-child.pid!, "SIGKILL"), delayMs);
    });
    child.on("close", (code, signal) =>
      signal === "SIGKILL" ? resolve(child.pid!) : reject(new Error(`writer exited ${code} before the kill:\n${err}`)),
    );
  });
}

/**
 * Names in `dir` other than `keep`; each must be a hidden temp file of a writer of one of `names`. A writer killed
 * before its first write has not made `dir` yet: nothing is left over.
 */
function leftovers(dir: string, keep: string[], names: string[]): string[] {
  const other = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !keep.includes(f)) : [];
  const re = new RegExp(`^\\.(${names.map((n) => n.replace(/\./g, "\\.")).join("|")})\\.\\d+\\.\\d+\\.tmp$`);
  for (const f of other) expect(f).toMatch(re);
  return other;
}

describe("SIGKILL during the report's writes", () => {
  const runDir = path.join(tmp, "run");
  beforeAll(async () => {
    const train = await runCli(["train", "--epochs", "1", "--hidden", "16", "--no-figures", "--out", runDir], { timeout: 120_000 });
    expect(train.status, train.stderr).toBe(0);
  }, 150_000);

  it("report.html and report.pdf: after kills aimed at their writes each is absent or complete, and some kills landed mid-write", async () => {
    const out = path.join(tmp, "report");
    const rng = seededRandom(21);
    // Kills continue until two landed mid-write (each does with odds about one half), at most 8.
    let midWrite = 0;
    let k = 0;
    for (; k < 8 && midWrite < 2; k++) {
      // Alternate the html and the pdf write; the delay covers before, during and after the write.
      const cue = k % 2 === 0 ? /^write report\.html$/ : /^write report\.pdf$/;
      const pid = await killAfter(REPORT_WRITER, [runDir, out], cue, 1, Math.floor(rng() * 6));
      const html = path.join(out, "report.html");
      if (fs.existsSync(html)) expect(fs.readFileSync(html, "utf8")).toMatch(/^<!DOCTYPE html>[\s\S]*<\/body><\/html>\n$/);
      const pdf = path.join(out, "report.pdf");
      if (fs.existsSync(pdf)) expect(fs.readFileSync(pdf, "latin1")).toMatch(/^%PDF-[\s\S]*%%EOF\s*$/);
      const left = leftovers(out, ["report.html", "report.pdf"], ["report.html", "report.pdf"]);
      midWrite += left.some((f) => f.includes(`.${pid}.`)) ? 1 : 0;
    }
    console.log(`kill-report: ${midWrite}/${k} kills landed mid-write; leftovers ${JSON.stringify(fs.readdirSync(out))}`);
    expect(midWrite).toBeGreaterThan(0);
    // The run folder itself is untouched by a report into another folder, and a re-run clears every temp file.
    expect(fs.readdirSync(runDir).filter((f) => f.startsWith("."))).toEqual([]);
    const again = await runCli(["report", runDir, "--out", out], { timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["report.html", "report.pdf"]);
  }, 180_000);
});

describe("SIGKILL during the tuner's trial.json writes", () => {
  it("trial.json: after kills at random moments of its writes it is absent or a complete version, and some kills landed mid-write", async () => {
    const dir = path.join(tmp, "trials", "trial-1");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "trial.json");
    const rng = seededRandom(22);
    // Kills continue until three landed mid-write, at most 20. The kill follows the first or second write's
    // announcement by 0 to 100 ms, which covers before, during (tens of ms on a quiet machine, 100 to 200 ms
    // under load) and after the write.
    let midWrite = 0;
    let k = 0;
    for (; k < 20 && midWrite < 3; k++) {
      const pid = await killAfter(TRIAL_WRITER, [dir], /^write$/, 1 + Math.floor(rng() * 2), Math.floor(rng() * 100));
      if (fs.existsSync(file)) {
        const v = JSON.parse(fs.readFileSync(file, "utf8")) as { id: string; status: string; params: { n: number }; history: number[] };
        expect(v).toMatchObject({ id: "trial-1", status: "running", objective: { name: "val_loss" } });
        expect(v.history).toHaveLength(v.params.n);
      }
      midWrite += leftovers(dir, ["trial.json"], ["trial.json"]).some((f) => f.includes(`.${pid}.`)) ? 1 : 0;
    }
    console.log(`kill-trial: ${midWrite}/${k} kills landed mid-write (left that writer's temp file)`);
    expect(midWrite).toBeGreaterThan(0);
    // The next write (a writer that is not killed) sweeps the temp files of the killed ones.
    const { SearchWorker } = await import("../../lib/search/driver");
    // TensorBoard off: this test is about trial.json; the event files are append-only and have their own kill test.
    const store = { definition: { objective: { name: "val_loss", direction: "minimize" }, fixed: { tensorBoard: false } } };
    const worker = new SearchWorker(store as never, { log: () => {} } as never);
    (worker as unknown as { writeStatus: (...a: unknown[]) => void }).writeStatus(
      dir,
      "trial-1",
      { kind: "start", params: { n: 1 } },
      [0.5],
      "completed",
    );
    expect(fs.readdirSync(dir)).toEqual(["trial.json"]);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ status: "completed", history: [0.5] });
  }, 120_000);
});

describe("SIGKILL during the tuner's study database writes (PGlite)", () => {
  it("the study database: after kills at random moments it opens, holds every trial reported finished, and a worker carries on", async () => {
    const dbDir = path.join(tmp, "study.pgdata");
    const rng = seededRandom(23);
    const finished = new Set<string>();
    // The writer does nothing but study steps, so most of 8 kills land inside one (between its begin and end).
    let midWrite = 0;
    const k = 8;
    for (let i = 0; i < k; i++) {
      const lines: string[] = [];
      await killAfter(STUDY_WRITER, [dbDir], /^ready$/, 1, Math.floor(rng() * 1500), lines);
      for (const l of lines) if (l.startsWith("end ")) finished.add(l.slice(4));
      midWrite += lines.at(-1)?.startsWith("begin ") ? 1 : 0;
    }
    const db = await openPglite(dbDir);
    try {
      const { rows } = await db.query<{ id: string; status: string; history: number[]; metrics: Record<string, number[]> }>(
        "SELECT id, status, history, metrics FROM fa_trials",
      );
      console.log(
        `kill-study: ${midWrite}/${k} kills landed inside a step; ${finished.size} trials finished, ${rows.length} in the database`,
      );
      expect(midWrite).toBeGreaterThan(0);
      expect(finished.size).toBeGreaterThan(0);
      const byId = new Map(rows.map((r) => [r.id, r]));
      // Every trial a writer saw finish is there, complete; each row's history and metrics come from one update.
      for (const id of finished) expect(byId.get(id), id).toMatchObject({ status: "completed", history: [0.5, 0.6] });
      for (const r of rows) expect(r.metrics.val_accuracy ?? [], r.id).toEqual(r.history);
      // At most one unfinished trial per killed writer, and the next worker takes them back once their claims time out.
      const open = rows.filter((r) => r.status !== "completed");
      expect(open.length).toBeLessThanOrEqual(k);
      const def = {
        name: "kill",
        tuner: TunerSpec.parse({ kind: "random", maxTrials: 100000, maxEpochs: 2, seed: 7 }),
        space: parseSearchSpace({ learningRate: { type: "float", min: 0.001, max: 0.1, log: true } }, ["learningRate"]),
        objective: objectiveFor("val_accuracy"),
        fixed: {},
      };
      const store = await SqlStudyStore.open(db, def);
      const a = await store.claim("next", 0);
      expect(a.kind).toMatch(/^(start|continue)$/);
      if (a.kind === "start" || a.kind === "continue") {
        const stale = await db.query<{ id: string }>("SELECT id FROM fa_trials WHERE status = 'running' AND owner <> 'next'");
        expect(stale.rows, "trials still held by a killed writer").toEqual([]);
        await store.recordEpochs("next", a.trialId, [0.5], { val_accuracy: [0.5] });
        expect(await store.finish("next", a.trialId, "completed")).toBe(true);
      }
    } finally {
      await db.close();
    }
  }, 120_000);
});
