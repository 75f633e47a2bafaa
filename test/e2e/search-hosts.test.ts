import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_NAME } from "../../lib/runs/lock";
import { type LocalPostgres, startPostgres } from "./helpers/postgres";
import { CLI, ROOT } from "./spawn";

// The README's Kubernetes setup on one machine: two search workers on one PostgreSQL study and one shared --out,
// each in its own UTS namespace (`unshare --uts`, as two pods have two hostnames). The first is SIGKILLed with its
// trainer mid-trial, leaving that trial's run-folder lock naming its host; the second must take the trial over
// (the lock's heartbeat stopped) and complete every trial exactly once.

/** Whether this process may make UTS namespaces (root, or a user namespace allowed by the kernel). */
const canUnshare = spawnSync("unshare", ["--uts", "true"]).status === 0;
const mustRun = process.env.CI === "true";

let server: LocalPostgres;
let dir: string;
beforeAll(async () => {
  if (!canUnshare) return;
  server = await startPostgres();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "search-hosts-"));
  fs.writeFileSync(path.join(dir, "space.json"), JSON.stringify({ learningRate: { type: "float", min: 0.003, max: 0.1, log: true } }));
});
/** Workers still running when the test ends (a failure midway): their process groups are killed. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const c of running) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const TRIALS = 3;

/** A search worker as host `host`: unshare gives it a UTS namespace, where `hostname` renames only it. */
function worker(host: string, log: { text: string }): { c: ChildProcess; done: Promise<number | null> } {
  const args = [
    CLI,
    "search",
    "--space",
    path.join(dir, "space.json"),
    "--tuner",
    "random",
    "--max-trials",
    String(TRIALS),
    "--max-epochs",
    "2",
    "--hidden",
    "16",
    // wasm: its seconds-long epochs let the test catch a trial between its two epochs.
    "--backend",
    "wasm",
    "--storage",
    server.url,
    "--study",
    "hosts",
    "--out",
    path.join(dir, "out"),
    "--heartbeat",
    "1",
    "--heartbeat-timeout",
    "6",
    "--no-retrain",
  ];
  // exec: the worker is the process spawned here (same pid), in its own process group (detached) with its trainer.
  const script = `hostname "$0" && exec "$@"`;
  const c = spawn("unshare", ["--uts", "sh", "-c", script, host, process.execPath, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  c.stdout!.setEncoding("utf8").on("data", (d: string) => (log.text += d));
  c.stderr!.setEncoding("utf8").on("data", (d: string) => (log.text += d));
  running.add(c);
  const done = new Promise<number | null>((r) =>
    c.on("exit", (code, signal) => {
      running.delete(c);
      r(code ?? (signal ? -1 : null));
    }),
  );
  return { c, done };
}

interface Row {
  id: string;
  status: string;
  history: number[];
  owner: string | null;
  claims: number;
}
async function trials(): Promise<Row[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query("SELECT id, status, history, owner, claims FROM fa_trials WHERE study = 'hosts' ORDER BY id")).rows;
  } catch (err) {
    // Before the first worker has created the study's tables there are no trials.
    if ((err as { code?: string }).code === "42P01") return [];
    throw err;
  } finally {
    await c.end();
  }
}

describe("search workers on two hosts sharing --out", () => {
  it.skipIf(!canUnshare && !mustRun)(
    "the second takes over the SIGKILLed first's trial across hosts; every trial completes once",
    async () => {
      expect(canUnshare, "unshare --uts failed: this test needs root or user namespaces to give the workers two hostnames").toBe(true);
      const logA = { text: "" };
      const logB = { text: "" };
      const a = worker("host-a", logA);
      // The first worker claims a trial and records its first epoch; only then does the second start, so the
      // victim is host-a's.
      let victim: Row | undefined;
      for (let polls = 0; !victim && polls < 2400; polls++) {
        await new Promise((r) => setTimeout(r, 250));
        victim = (await trials()).find((r) => r.status === "running" && r.history.length === 1);
      }
      expect(victim, `no trial reached its first epoch:\n${logA.text}`).toBeDefined();
      expect(victim!.owner).toMatch(/^host-a:/);
      const lockFile = path.join(dir, "out", "trials", victim!.id, LOCK_NAME);
      expect(JSON.parse(fs.readFileSync(lockFile, "utf8"))).toMatchObject({ host: "host-a" });
      process.kill(-a.c.pid!, "SIGKILL");
      expect(await a.done).toBe(-1);
      // SIGKILL leaves the trial's lock naming host-a, which host-b cannot check by pid.
      expect(JSON.parse(fs.readFileSync(lockFile, "utf8"))).toMatchObject({ host: "host-a" });

      const b = worker("host-b", logB);
      expect(await b.done, logB.text).toBe(0);
      const rows = await trials();
      const ids = Array.from({ length: TRIALS }, (_, i) => `trial-00${i}`);
      expect(rows.map((t) => [t.id, t.status, t.history.length])).toEqual(ids.map((id) => [id, "completed", 2]));
      // The victim's trial was claimed twice (host-a, then host-b after its heartbeat lapsed); every other once.
      expect(rows.map((t) => t.claims)).toEqual(rows.map((t) => (t.id === victim!.id ? 2 : 1)));
      expect(logB.text).toMatch(new RegExp(`${victim!.id}: continue epochs 2\\.\\.2`));
      for (const id of ids) expect(logA.text.concat(logB.text).match(new RegExp(`${id}: completed`, "g"))).toHaveLength(1);
      // The takeover released its lock at the end: no trial folder keeps one.
      for (const id of ids) expect(fs.existsSync(path.join(dir, "out", "trials", id, LOCK_NAME))).toBe(false);
    },
  );
});
