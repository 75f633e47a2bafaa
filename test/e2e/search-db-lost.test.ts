import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readTrials,
  type SearchFixture,
  searchArgs,
  startSearchFixture,
  startSearchWorker,
  untilTrial,
  type WorkerOptions,
} from "./helpers/search";
import { run } from "./spawn";

// The study's PostgreSQL server lost mid-study, as a network cut: the worker reaches it through a loopback proxy that
// the test closes (every connection reset, new ones refused) and opens again.
let fixture: SearchFixture;
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
  fixture = await startSearchFixture("search-db-lost-");
  proxy = await startProxy(fixture.server.port);
});
afterAll(async () => {
  await proxy?.close();
  fixture?.stop();
});

/** A worker of `study` that reaches the database through the proxy, two trainers at a time. */
const options = (study: string, extra: string[] = []): WorkerOptions => ({
  space: fixture.space,
  storage: `postgresql://postgres@127.0.0.1:${proxy.port}/studies`,
  study,
  out: path.join(fixture.dir, study),
  maxTrials: 3,
  heartbeatTimeout: 3,
  extra: ["--parallel", "2", ...extra],
});
const trials = (study: string) => readTrials(fixture.server.url, study);
/** Resolves once some trial of `study` has recorded its first epoch. */
const untilFirstEpoch = (study: string) => untilTrial(fixture.server.url, study, "epoch 1", (t) => t.history.length >= 1);

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
      const worker = startSearchWorker(options("blip"));
      await untilFirstEpoch("blip");
      await proxy.down();
      await new Promise((r) => setTimeout(r, 4000));
      await proxy.up();
      expect(await worker.done, worker.log()).toBe(0);
      expect((await trials("blip")).map((t) => [t.id, t.status, t.history.length])).toEqual(
        ["trial-000", "trial-001", "trial-002"].map((id) => [id, "completed", 2]),
      );
    },
    15 * 60_000,
  );

  it(
    "a loss longer than --storage-retry stops every trainer with its epochs kept, says how to resume, and a re-run completes",
    async () => {
      const child = run(process.execPath, searchArgs(options("lost", ["--storage-retry", "3"])), { timeout: 15 * 60_000 });
      await untilFirstEpoch("lost");
      await proxy.down();
      const { status, stdout, stderr } = await child;
      await proxy.up();
      expect(status, stdout + stderr).toBe(1);
      expect(stderr.trim()).toMatch(
        new RegExp(
          `^fashion-ann: lost the study database at postgresql://postgres@127\\.0\\.0\\.1:${proxy.port}/studies: no answer for \\d+ s \\(.*\\); every trainer was stopped and its finished epochs are checkpointed in .*trials; once the database answers again, re-run the same command to resume the study`,
        ),
      );
      expect(stderr).not.toMatch(/\n\s+at |This is a bug/);
      // No trainer outlived its worker.
      expect(processesNaming(path.join(fixture.dir, "lost"))).toEqual([]);
      // Every trial that reported an epoch has it checkpointed in its run folder.
      for (const t of await trials("lost"))
        if (t.history.length > 0)
          expect(fs.existsSync(path.join(fixture.dir, "lost", "trials", t.id, "checkpoints", "last.json")), t.id).toBe(true);

      const again = await run(process.execPath, searchArgs(options("lost")), { timeout: 15 * 60_000 });
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect((await trials("lost")).map((t) => [t.id, t.status, t.history.length])).toEqual(
        ["trial-000", "trial-001", "trial-002"].map((id) => [id, "completed", 2]),
      );
    },
    30 * 60_000,
  );
});
