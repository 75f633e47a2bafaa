import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acquireRunLock,
  LOCK_HEARTBEAT_SECONDS,
  LOCK_NAME,
  LOCK_STALE_SECONDS,
  readLock,
  RunLockError,
  type LockHolder,
} from "../../lib/runs/lock";
import { isProcessAlive, processStartTicks } from "../../lib/io/process";
import { createRun, openRun } from "../../lib/runs/run";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-lock-"));
const writeLock = (dir: string, h: Partial<LockHolder>): void =>
  fs.writeFileSync(
    path.join(dir, LOCK_NAME),
    JSON.stringify({ host: os.hostname(), started: "2026-01-01T00:00:00.000Z", command: "node cli.js train", ...h }),
  );

/** A pid that certainly ran and has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "0"]);
  expect(isProcessAlive(r.pid!)).toBe(false);
  return r.pid!;
}

let other: ChildProcess;
beforeAll(() => {
  // Another live process on this host, standing in for a second `fashion-ann train`.
  other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
});
afterAll(() => {
  other.kill("SIGKILL");
});

describe("acquireRunLock", () => {
  it("writes .lock with this pid, host and start time, and release removes it", () => {
    const dir = tmp();
    const lock = acquireRunLock(dir);
    const h = readLock(dir)!;
    expect(h.pid).toBe(process.pid);
    expect(h.host).toBe(os.hostname());
    expect(Date.parse(h.started)).not.toBeNaN();
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_NAME))).toBe(false);
  });

  it("is re-entrant in one process: the lock stays until the outer release", () => {
    const dir = tmp();
    const outer = acquireRunLock(dir);
    const inner = acquireRunLock(dir);
    inner.release();
    inner.release(); // idempotent: must not release the outer one
    expect(readLock(dir)?.pid).toBe(process.pid);
    outer.release();
    expect(readLock(dir)).toBeUndefined();
  });

  it("refuses a folder another live process holds, naming the folder and its pid, and leaves its lock alone", () => {
    const dir = tmp();
    writeLock(dir, { pid: other.pid!, procStart: processStartTicks(other.pid!) });
    const before = fs.readFileSync(path.join(dir, LOCK_NAME), "utf8");
    expect(() => acquireRunLock(dir)).toThrow(RunLockError);
    expect(() => acquireRunLock(dir)).toThrow(
      new RegExp(
        `^run folder ${dir} is in use by pid ${other.pid} on ${os.hostname()} \\(node cli\\.js train\\), since 2026-01-01T00:00:00\\.000Z; wait for it to finish or stop it \\(kill ${other.pid}\\)`,
      ),
    );
    expect(fs.readFileSync(path.join(dir, LOCK_NAME), "utf8")).toBe(before);
  });

  it("takes over a stale lock whose pid no longer runs, saying so", () => {
    const dir = tmp();
    const pid = deadPid();
    writeLock(dir, { pid });
    const lines: string[] = [];
    const lock = acquireRunLock(dir, { log: (m) => lines.push(m) });
    expect(lines).toEqual([
      `${dir}: taking over a stale lock of pid ${pid} (node cli.js train, since 2026-01-01T00:00:00.000Z); that process no longer runs.`,
    ]);
    expect(readLock(dir)?.pid).toBe(process.pid);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it.runIf(processStartTicks(process.pid) !== undefined)(
    "takes over a lock whose holder is a zombie (killed, not yet reaped by its parent)",
    async () => {
      // The shell starts a child, then exec()s into `sleep`, which never reaps it. The child is killed only once
      // its parent is `sleep`: killed earlier (under load, `sleep 0` could exit first), the shell would reap it.
      const parent = spawn("sh", ["-c", "sleep 30 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
      const state = (pid: number): string => fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0]!;
      const until = async (what: string, ok: () => boolean): Promise<void> => {
        for (const deadline = Date.now() + 10_000; !ok(); await new Promise((r) => setTimeout(r, 10)))
          if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      };
      try {
        const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d: Buffer) => resolve(d.toString()))));
        await until("the shell has exec'd into sleep", () => fs.readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim() === "sleep");
        process.kill(zombie, "SIGKILL");
        await until(`pid ${zombie} is a zombie`, () => state(zombie) === "Z");
        expect(() => process.kill(zombie, 0)).not.toThrow();
        expect(isProcessAlive(zombie)).toBe(false);
        const dir = tmp();
        writeLock(dir, { pid: zombie });
        const lines: string[] = [];
        acquireRunLock(dir, { log: (m) => lines.push(m) }).release();
        expect(lines[0]).toMatch(new RegExp(`taking over a stale lock of pid ${zombie}`));
      } finally {
        parent.kill("SIGKILL");
      }
    },
  );

  it.runIf(processStartTicks(process.pid) !== undefined)(
    "takes over a lock whose pid now belongs to another process (start time differs)",
    () => {
      const dir = tmp();
      writeLock(dir, { pid: other.pid!, procStart: "1" });
      const lines: string[] = [];
      acquireRunLock(dir, { log: (m) => lines.push(m) }).release();
      expect(lines[0]).toMatch(new RegExp(`taking over a stale lock of pid ${other.pid}`));
    },
  );

  it("refuses a lock from another host without heartbeats (an older version's), saying its liveness cannot be checked and which file to delete", () => {
    const dir = tmp();
    writeLock(dir, { pid: 1234, host: "elsewhere.example" });
    expect(() => acquireRunLock(dir)).toThrow(
      new RegExp(
        `run folder ${dir} is locked by pid 1234 on elsewhere\\.example .*another machine.*If it does not, delete ${path.join(dir, LOCK_NAME)}`,
      ),
    );
  });

  it("takes over another host's lock whose heartbeat stopped longer ago than LOCK_STALE_SECONDS, saying so", () => {
    const dir = tmp();
    writeLock(dir, { pid: 1234, host: "elsewhere.example", heartbeatSeconds: LOCK_HEARTBEAT_SECONDS });
    const past = new Date(Date.now() - (LOCK_STALE_SECONDS + 5) * 1000);
    fs.utimesSync(path.join(dir, LOCK_NAME), past, past);
    const lines: string[] = [];
    const lock = acquireRunLock(dir, { log: (m) => lines.push(m) });
    expect(lines).toEqual([
      `${dir}: taking over the lock of pid 1234 on elsewhere.example (node cli.js train, since 2026-01-01T00:00:00.000Z); its heartbeat stopped over ${LOCK_STALE_SECONDS} s ago.`,
    ]);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, host: os.hostname(), heartbeatSeconds: LOCK_HEARTBEAT_SECONDS });
    lock.release();
    // Only the lock was there; the probe files that read the filesystem's clock are gone too.
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses another host's lock while its heartbeat moves, naming the host", async () => {
    const dir = tmp();
    writeLock(dir, { pid: 1234, host: "elsewhere.example", heartbeatSeconds: LOCK_HEARTBEAT_SECONDS });
    const file = path.join(dir, LOCK_NAME);
    // The remote holder's heartbeat, from another process (this one blocks while it judges the lock).
    const beating = spawn(
      process.execPath,
      ["-e", "const fs = require('fs'); const f = process.argv[1]; setInterval(() => fs.writeFileSync(f, fs.readFileSync(f)), 300)", file],
      { stdio: "ignore" },
    );
    try {
      await new Promise((r) => setTimeout(r, 400));
      const started = Date.now();
      expect(() => acquireRunLock(dir)).toThrow(
        new RegExp(
          `run folder ${dir} is in use by pid 1234 on elsewhere\\.example .*another machine whose heartbeat in ${path.join(dir, LOCK_NAME)} is fresh`,
        ),
      );
      // Decided on the first moved heartbeat, not after the stale time.
      expect(Date.now() - started).toBeLessThan(LOCK_STALE_SECONDS * 1000);
    } finally {
      beating.kill("SIGKILL");
    }
  });

  it("heartbeats its own lock: the file's time moves while it is held, and stops when released", async () => {
    const dir = tmp();
    const file = path.join(dir, LOCK_NAME);
    const lock = acquireRunLock(dir);
    const text = fs.readFileSync(file, "utf8");
    const before = fs.statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, LOCK_HEARTBEAT_SECONDS * 1000 + 700));
    expect(fs.statSync(file).mtimeMs).toBeGreaterThan(before);
    expect(fs.readFileSync(file, "utf8")).toBe(text);
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it("refuses an unreadable lock file, quoting it and saying to delete it", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, LOCK_NAME), "garbage");
    expect(() => acquireRunLock(dir)).toThrow(
      /\.lock is not a lock this program wrote \("garbage"\); if no other process is using .*, delete it/,
    );
  });
});

describe("createRun and openRun respect the lock", () => {
  it("createRun refuses a folder another live process writes, even with force", () => {
    const dir = tmp();
    writeLock(dir, { pid: other.pid! });
    expect(() => createRun(dir, { force: true })).toThrow(new RegExp(`run folder ${dir} is in use by pid ${other.pid}`));
  });

  it("createRun treats a folder holding only a stale lock as empty", () => {
    const dir = tmp();
    writeLock(dir, { pid: deadPid() });
    expect(createRun(dir).dir).toBe(dir);
  });

  it("openRun refuses a folder another live process writes", () => {
    const dir = tmp();
    writeLock(dir, { pid: other.pid! });
    expect(() => openRun(dir)).toThrow(new RegExp(`run folder ${dir} is in use by pid ${other.pid}`));
  });

  it("openRun is not blocked by a stale lock or by this process's own (re-running notebook cells)", () => {
    const stale = tmp();
    writeLock(stale, { pid: deadPid() });
    expect(openRun(stale).dir).toBe(stale);
    const own = tmp();
    const lock = acquireRunLock(own);
    expect(openRun(own).dir).toBe(own);
    expect(openRun(own).dir).toBe(own);
    lock.release();
  });
});
