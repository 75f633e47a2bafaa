import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_NAME } from "../../lib/runs/lock";
import {
  betweenEpochs,
  readTrials,
  type SearchFixture,
  searchArgs,
  startSearchFixture,
  startWorker,
  untilTrial,
  type Worker,
} from "./helpers/search";

// The README's Kubernetes setup on one machine: two search workers on one PostgreSQL study and one shared --out,
// each in its own UTS namespace (`unshare --uts`, as two pods have two hostnames). The first is SIGKILLed with its
// trainer mid-trial, leaving that trial's run-folder lock naming its host; the second must take the trial over
// (the lock's heartbeat stopped) and complete every trial exactly once.

/** Whether this process may make UTS namespaces (root, or a user namespace allowed by the kernel). */
const canUnshare = spawnSync("unshare", ["--uts", "true"]).status === 0;
const mustRun = process.env.CI === "true";

let fixture: SearchFixture;
beforeAll(async () => {
  if (!canUnshare) return;
  fixture = await startSearchFixture("search-hosts-");
});
/** Workers still running when the test ends (a failure midway): their process groups are killed. */
const workers: Worker[] = [];
afterAll(() => {
  for (const w of workers) w.kill();
  fixture?.stop();
});

const TRIALS = 3;

/** A search worker as host `host`: unshare gives it a UTS namespace, where `hostname` renames only it. */
function worker(host: string): Worker {
  const args = searchArgs({
    space: fixture.space,
    storage: fixture.server.url,
    study: "hosts",
    out: path.join(fixture.dir, "out"),
    maxTrials: TRIALS,
    heartbeatTimeout: 6,
  });
  // exec: the worker is the process spawned here (same pid), in its own process group with its trainer.
  const script = `hostname "$0" && exec "$@"`;
  const w = startWorker("unshare", ["--uts", "sh", "-c", script, host, process.execPath, ...args]);
  workers.push(w);
  return w;
}

describe("search workers on two hosts sharing --out", () => {
  it.skipIf(!canUnshare && !mustRun)(
    "the second takes over the SIGKILLed first's trial across hosts; every trial completes once",
    async () => {
      expect(canUnshare, "unshare --uts failed: this test needs root or user namespaces to give the workers two hostnames").toBe(true);
      const a = worker("host-a");
      // The first worker claims a trial and records its first epoch; only then does the second start, so the
      // victim is host-a's.
      const victim = await untilTrial(fixture.server.url, "hosts", "its first epoch", betweenEpochs, a.log);
      expect(victim.owner).toMatch(/^host-a:/);
      const lockFile = path.join(fixture.dir, "out", "trials", victim.id, LOCK_NAME);
      expect(JSON.parse(fs.readFileSync(lockFile, "utf8"))).toMatchObject({ host: "host-a" });
      a.kill();
      expect(await a.done).toBe(-1);
      // SIGKILL leaves the trial's lock naming host-a, which host-b cannot check by pid.
      expect(JSON.parse(fs.readFileSync(lockFile, "utf8"))).toMatchObject({ host: "host-a" });

      const b = worker("host-b");
      expect(await b.done, b.log()).toBe(0);
      const rows = await readTrials(fixture.server.url, "hosts");
      const ids = Array.from({ length: TRIALS }, (_, i) => `trial-00${i}`);
      expect(rows.map((t) => [t.id, t.status, t.history.length])).toEqual(ids.map((id) => [id, "completed", 2]));
      // The victim's trial was claimed twice (host-a, then host-b after its heartbeat lapsed); every other once.
      expect(rows.map((t) => t.claims)).toEqual(rows.map((t) => (t.id === victim.id ? 2 : 1)));
      expect(b.log()).toMatch(new RegExp(`${victim.id}: continue epochs 2\\.\\.2`));
      for (const id of ids)
        expect(
          a
            .log()
            .concat(b.log())
            .match(new RegExp(`${id}: completed`, "g")),
        ).toHaveLength(1);
      // The takeover released its lock at the end: no trial folder keeps one.
      for (const id of ids) expect(fs.existsSync(path.join(fixture.dir, "out", "trials", id, LOCK_NAME))).toBe(false);
    },
  );
});
