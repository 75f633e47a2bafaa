// A run folder's holder whose main thread is busy in one synchronous step for longer than LOCK_STALE_SECONDS is
// alive, and must keep its folder: its heartbeat beats on a thread of its own. The holder blocks its event loop until
// the test creates a file (no timer of it can run meanwhile); a taker on another host (its own UTS namespace,
// `unshare --uts`, as another pod) then tries the folder after the stale time and must be refused.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_NAME, LOCK_STALE_SECONDS } from "../../lib/runs/lock";
import { ROOT, run } from "./spawn";

const lockJs = path.join(ROOT, "dist", "lib", "runs", "lock.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-busy-lock-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const canUnshare = spawnSync("unshare", ["--uts", "true"]).status === 0;

/** Takes the lock, says so with a file, then blocks its event loop (Atomics.wait) until `go` exists. */
const HOLDER = `
const fs = require("fs"), path = require("path");
const { acquireRunLock, readLock } = require(${JSON.stringify(lockJs)});
const [dir, ready, go] = process.argv.slice(1);
const lock = acquireRunLock(dir);
fs.writeFileSync(ready, "");
const cell = new Int32Array(new SharedArrayBuffer(4));
while (!fs.existsSync(go)) Atomics.wait(cell, 0, 0, 50);
const mine = readLock(dir).pid === process.pid;
lock.release();
console.log(JSON.stringify({ mine, left: fs.existsSync(path.join(dir, ${JSON.stringify(LOCK_NAME)})) }));
`;

const TAKER = `
const { acquireRunLock } = require(${JSON.stringify(lockJs)});
try { acquireRunLock(process.argv[1]); console.log("taken"); } catch (e) { console.log(e.name + ": " + e.message); }
`;

async function waitForFile(file: string, holder: { exitCode: number | null }): Promise<void> {
  while (!fs.existsSync(file)) {
    if (holder.exitCode !== null) throw new Error("the holder exited before taking the lock");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a live holder busy in a long synchronous step", () => {
  it(`keeps its run folder: a taker on another host ${LOCK_STALE_SECONDS + 3} s into the block is refused, the heartbeat having moved`, async () => {
    expect(canUnshare, "unshare --uts failed: this test needs root or user namespaces for a second hostname").toBe(true);
    const dir = path.join(tmp, "run");
    const ready = path.join(tmp, "ready");
    const go = path.join(tmp, "go");
    const holder = spawn(process.execPath, ["-e", HOLDER, dir, ready, go], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    holder.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => holder.on("close", resolve));
    try {
      await waitForFile(ready, holder);
      const lockFile = path.join(dir, LOCK_NAME);
      const blockedAt = fs.statSync(lockFile).mtimeMs;
      // The condition under test is the length of the block: past the stale time, several heartbeats later.
      await new Promise((r) => setTimeout(r, (LOCK_STALE_SECONDS + 3) * 1000));
      expect(fs.statSync(lockFile).mtimeMs, "the heartbeat moved while the main thread was blocked").toBeGreaterThan(blockedAt);
      const taker = await run(
        "unshare",
        ["--uts", "sh", "-c", 'hostname other-pod && exec "$@"', "sh", process.execPath, "-e", TAKER, dir],
        {
          timeout: 120_000,
        },
      );
      expect(taker.status, taker.stderr).toBe(0);
      expect(taker.stdout).toMatch(
        new RegExp(
          `^RunLockError: run folder ${dir} is in use by pid ${holder.pid} on ${os.hostname()} .*another machine whose heartbeat in ${lockFile} is fresh`,
        ),
      );
      fs.writeFileSync(go, "");
      expect(await exited).toBe(0);
      expect(JSON.parse(out)).toEqual({ mine: true, left: false });
    } finally {
      fs.writeFileSync(go, "");
      holder.kill("SIGKILL");
    }
  }, 180_000);
});
