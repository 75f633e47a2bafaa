import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPostgres, startPostgres } from "./helpers/postgres";
import { CLI, ROOT, run } from "./spawn";

// Three workers on one study in a real PostgreSQL server (Debian's), one of them SIGKILLed mid-trial; the study
// must end as a single worker's study with the same seed does. Tiny model, 4 trials x 2 epochs.
let server: LocalPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "search-pg-"));
  fs.writeFileSync(path.join(dir, "space.json"), JSON.stringify({ learningRate: { type: "float", min: 0.003, max: 0.1, log: true } }));
});
afterAll(() => {
  server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const searchArgs = (study: string) => [
  CLI,
  "search",
  "--space",
  path.join(dir, "space.json"),
  "--tuner",
  "random",
  "--max-trials",
  "4",
  "--max-epochs",
  "2",
  "--hidden",
  "16",
  // wasm, not the native engine: its seconds-long epochs let the test catch a trial between its two epochs.
  "--backend",
  "wasm",
  "--storage",
  server.url,
  "--study",
  study,
  "--out",
  path.join(dir, study),
  "--heartbeat",
  "1",
  "--heartbeat-timeout",
  "6",
  "--no-retrain",
];

interface Row {
  id: string;
  status: string;
  params: Record<string, unknown>;
  history: number[];
  owner: string | null;
  claims: number;
}
async function trials(study: string): Promise<Row[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query("SELECT id, status, params, history, owner, claims FROM fa_trials WHERE study = $1 ORDER BY id", [study])).rows;
  } finally {
    await c.end();
  }
}

const exit = (c: ChildProcess) => new Promise<number | null>((r) => c.on("exit", (code, signal) => r(code ?? (signal ? -1 : null))));

describe("search with its study in PostgreSQL", () => {
  it("three workers, one killed mid-trial: every trial completes once and the results equal one worker's", async () => {
    const solo = await run(process.execPath, searchArgs("solo"), { timeout: 10 * 60_000 });
    expect(solo.status, solo.stderr).toBe(0);

    const logs: string[] = ["", "", ""];
    const workers = logs.map((_, i) => {
      // Own process group (detached): killing the group kills the worker and its trainer, as a lost machine would.
      const c = spawn(process.execPath, searchArgs("shared"), { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      c.stdout!.setEncoding("utf8").on("data", (d: string) => (logs[i] += d));
      c.stderr!.setEncoding("utf8").on("data", (d: string) => (logs[i] += d));
      return { c, done: exit(c) };
    });
    // Kill the worker of the first trial that has recorded its first epoch (of two).
    let victim: { id: string; pid: number } | undefined;
    for (let polls = 0; !victim && polls < 1200; polls++) {
      await new Promise((r) => setTimeout(r, 250));
      const t = (await trials("shared")).find((r) => r.status === "running" && r.history.length === 1);
      if (t) victim = { id: t.id, pid: Number(t.owner!.split(":")[1]) };
    }
    expect(victim, "no trial reached its first epoch").toBeDefined();
    const killed = workers.find((w) => w.c.pid === victim!.pid)!;
    process.kill(-killed.c.pid!, "SIGKILL");
    const codes = await Promise.all(workers.map((w) => w.done));
    expect(codes.filter((c) => c === 0)).toHaveLength(2);

    const shared = await trials("shared");
    expect(shared.map((t) => [t.id, t.status, t.history.length])).toEqual(
      ["trial-000", "trial-001", "trial-002", "trial-003"].map((id) => [id, "completed", 2]),
    );
    // The victim's trial was claimed twice (killed, then resumed after epoch 1 by another worker); the rest once.
    expect(shared.map((t) => t.claims)).toEqual(shared.map((t) => (t.id === victim!.id ? 2 : 1)));
    const survivors = logs.filter((_, i) => workers[i] !== killed).join("");
    expect(survivors).toMatch(new RegExp(`${victim!.id}: continue epochs 2\\.\\.2`));
    // Each trial is reported completed exactly once over all workers' logs.
    for (const t of shared) expect(logs.join("").match(new RegExp(`${t.id}: completed`, "g"))).toHaveLength(1);
    // Same seed, same draws, same training (one thread each, resume equals an uninterrupted run): same results.
    const alone = await trials("solo");
    expect(shared.map((t) => [t.id, t.params, t.history])).toEqual(alone.map((t) => [t.id, t.params, t.history]));
    expect(fs.readFileSync(path.join(dir, "shared", "trials.csv"), "utf8")).toBe(
      fs.readFileSync(path.join(dir, "solo", "trials.csv"), "utf8"),
    );
  });

  it("refuses the same study name with another search space, in one sentence", async () => {
    fs.writeFileSync(path.join(dir, "space.json"), JSON.stringify({ batchSize: { type: "choice", values: [32, 64] } }));
    const r = await run(process.execPath, searchArgs("solo"), { timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^fashion-ann: study "solo" in postgresql://postgres@127\\.0\\.0\\.1:${server.port}/studies exists with another search space .*; use the same space file or another --study name$`,
      ),
    );
  });

  it("an unreachable server and wrong credentials are one sentence each", async () => {
    const args = (url: string) => [
      CLI,
      "search",
      "--space",
      path.join(dir, "space.json"),
      "--max-epochs",
      "1",
      "--storage",
      url,
      "--out",
      path.join(dir, "x"),
    ];
    const down = await run(process.execPath, args("postgresql://postgres@127.0.0.1:1/studies"), { timeout: 60_000 });
    expect(down.stderr.trim()).toMatch(
      /^fashion-ann: cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\); check that the server runs/,
    );
    const nodb = await run(process.execPath, args(`postgresql://postgres@127.0.0.1:${server.port}/nosuch`), { timeout: 60_000 });
    expect(nodb.stderr.trim()).toMatch(new RegExp(`^fashion-ann: PostgreSQL at 127\\.0\\.0\\.1:${server.port} has no database "nosuch"`));
  });
});
