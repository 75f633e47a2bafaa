// Two real `fashion-ann train` processes on one run folder: the second is refused (even with --force,
// even as --resume) naming the folder and the first one's pid; after the first is SIGKILLed its lock
// is stale, and `train --resume` takes it over, says so, and carries on from the checkpoint.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startTrain } from "./spawn";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-lock-e2e-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("run-folder lock between two fashion-ann train processes", () => {
  it("refuses the second writer, then lets --resume take over the lock of a SIGKILLed first one", async () => {
    const run = path.join(tmp, "shared");
    // wasm: the native engine could finish these 200 epochs before the second writer arrives.
    const first = startTrain(["--epochs", "200", "--hidden", "8", "--batch-size", "256", "--backend", "wasm", "--out", run]);
    try {
      await first.seen(/^Epoch 2\/200$/m);
      const lock = JSON.parse(fs.readFileSync(path.join(run, ".lock"), "utf8"));
      expect(lock).toMatchObject({ pid: first.child.pid, host: os.hostname() });
      expect(lock.command).toMatch(/^node dist\/lib\/cli\/main\.js train --epochs 200 /);
      const inUse = new RegExp(
        `^fashion-ann: run folder ${escapeRegExp(run)} is in use by pid ${first.child.pid} on ${escapeRegExp(os.hostname())} \\(node dist/lib/cli/main\\.js train --epochs 200 .*\\), since \\S+; wait for it to finish or stop it \\(kill ${first.child.pid}\\)`,
        "m",
      );
      const config = fs.readFileSync(path.join(run, "config.json"), "utf8");

      // Both are refused before they write anything, so they can try at the same time.
      const [second, resume] = await Promise.all([
        runCli(["train", "--epochs", "1", "--force", "--out", run]),
        runCli(["train", "--resume", run]),
      ]);
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(inUse);
      expect(resume.status).toBe(1);
      expect(resume.stderr).toMatch(inUse);
      // Neither touched the first one's files.
      expect(fs.readFileSync(path.join(run, "config.json"), "utf8")).toBe(config);
    } finally {
      first.child.kill("SIGKILL");
    }
    await first.exit;
    // SIGKILL runs no exit handler: the lock stays behind, naming a dead pid.
    expect(JSON.parse(fs.readFileSync(path.join(run, ".lock"), "utf8")).pid).toBe(first.child.pid);
    const done = (JSON.parse(fs.readFileSync(path.join(run, "checkpoints", "last.json"), "utf8")) as { epoch: number }).epoch + 1;

    const resumed = startTrain(["--resume", run]);
    await resumed.seen(new RegExp(`^resuming ${escapeRegExp(run)} after epoch ${done}/200$`, "m"));
    expect(resumed.out()).toMatch(
      new RegExp(
        `^${escapeRegExp(run)}: taking over a stale lock of pid ${first.child.pid} \\(node dist/lib/cli/main\\.js train --epochs 200 .*\\); that process no longer runs\\.$`,
        "m",
      ),
    );
    expect(JSON.parse(fs.readFileSync(path.join(run, ".lock"), "utf8")).pid).toBe(resumed.child.pid);
    await resumed.seen(new RegExp(`^Epoch ${done + 2}/200$`, "m"));
    resumed.child.kill("SIGTERM");
    expect(await resumed.exit).toBe(143);
    // A clean stop releases the lock.
    expect(fs.existsSync(path.join(run, ".lock"))).toBe(false);
  });
});
