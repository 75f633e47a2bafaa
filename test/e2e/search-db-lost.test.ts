import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalPostgres, startPostgres } from "./helpers/postgres";
import { CLI, ROOT, run } from "./spawn";

// The study's PostgreSQL server lost mid-study, as a network cut: the worker reaches it through a loopback proxy that
// the test closes (every connection reset, new ones refused) and opens again.
let server: LocalPostgres;
let dir: string;
let proxy: { port: number; down: () => Promise<void>; up: () => Promise<void>; close: () => Promise<void> };

/** A TCP proxy on a free loopback port to `target`; down() cuts every connection and refuses new ones until up(). */
async function startProxy(target: number): Promise<typeof proxy> {
  const sockets = new Set<net.Socket>();
  let listener: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      listener = net.createServer((client) => {
        const upstream = net.connect(target, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      listener.once("error", reject);
      listener.listen(port, "127.0.0.1", () => {
        port = (listener!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      listener ? listener.close(() => resolve()) : resolve();
      listener = undefined;
    });
  await listen();
  return { port, down, up: listen, close: down };
}

beforeAll(async () => {
  server = await startPostgres();
  proxy = await startProxy(server.port);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "search-db-lost-"));
  fs.writeFileSync(path.join(dir, "space.json"), JSON.stringify({ learningRate: { type: "float", min: 0.003, max: 0.1, log: true } }));
});
afterAll(async () => {
  await proxy?.close();
  server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const args = (study: string, extra: string[] = []) => [
  CLI,
  "search",
  "--space",
  path.join(dir, "space.json"),
  "--max-trials",
  "3",
  "--max-epochs",
  "2",
  "--hidden",
  "16",
  "--backend",
  "wasm",
  "--parallel",
  "2",
  "--storage",
  `postgresql://postgres@127.0.0.1:${proxy.port}/studies`,
  "--study",
  study,
  "--out",
  path.join(dir, study),
  "--heartbeat",
  "1",
  "--heartbeat-timeout",
  "3",
  "--no-retrain",
  ...extra,
];

async function trials(study: string): Promise<{ id: string; status: string; history: number[] }[]> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    return (await c.query("SELECT id, status, history FROM fa_trials WHERE study = $1 ORDER BY id", [study])).rows;
  } finally {
    await c.end();
  }
}

/** Resolves once some trial of `study` has recorded `epochs` epochs. */
async function untilEpochs(study: string, epochs: number): Promise<void> {
  for (let polls = 0; polls < 2400; polls++) {
    if ((await trials(study).catch(() => [])).some((t) => t.history.length >= epochs)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no trial of ${study} reached epoch ${epochs}`);
}

/** The pids of processes whose command line names `needle` (trainers left behind would). */
function processesNaming(needle: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(needle) && !l.includes("ps -eo"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe("search when its PostgreSQL server is lost mid-study", () => {
  it(
    "a short loss is retried: the study completes every trial once",
    async () => {
      const child = spawn(process.execPath, args("blip"), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let log = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (log += d));
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
      const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      await untilEpochs("blip", 1);
      await proxy.down();
      await new Promise((r) => setTimeout(r, 4000));
      await proxy.up();
      expect(await done, log).toBe(0);
      expect((await trials("blip")).map((t) => [t.id, t.status, t.history.length])).toEqual(
        ["trial-000", "trial-001", "trial-002"].map((id) => [id, "completed", 2]),
      );
    },
    15 * 60_000,
  );

  it(
    "a loss longer than --storage-retry stops every trainer with its epochs kept, says how to resume, and a re-run completes",
    async () => {
      const child = spawn(process.execPath, args("lost", ["--storage-retry", "3"]), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      await untilEpochs("lost", 1);
      await proxy.down();
      const code = await done;
      await proxy.up();
      expect(code, stdout + stderr).toBe(1);
      expect(stderr.trim()).toMatch(
        new RegExp(
          `^fashion-ann: lost the study database at postgresql://postgres@127\\.0\\.0\\.1:${proxy.port}/studies: no answer for \\d+ s \\(.*\\); every trainer was stopped and its finished epochs are checkpointed in .*trials; once the database answers again, re-run the same command to resume the study`,
        ),
      );
      expect(stderr).not.toMatch(/\n\s+at |This is a bug/);
      // No trainer outlived its worker.
      expect(processesNaming(path.join(dir, "lost"))).toEqual([]);
      // Every trial that reported an epoch has it checkpointed in its run folder.
      for (const t of await trials("lost"))
        if (t.history.length > 0)
          expect(fs.existsSync(path.join(dir, "lost", "trials", t.id, "checkpoints", "last.json")), t.id).toBe(true);

      const again = await run(process.execPath, args("lost"), { timeout: 15 * 60_000 });
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect((await trials("lost")).map((t) => [t.id, t.status, t.history.length])).toEqual(
        ["trial-000", "trial-001", "trial-002"].map((id) => [id, "completed", 2]),
      );
    },
    30 * 60_000,
  );
});
