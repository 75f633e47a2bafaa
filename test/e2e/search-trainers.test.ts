import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isEpochReport } from "../../lib/search/epoch-report";
import { TrainerPool, type TrialRun } from "../../lib/search/trainer-pool";

// Issue 21 part 4: a search's trainer processes stay up across trials (lib/search/trainer-pool.ts). A trial run on a
// process that already trained others must leave the run folder a fresh `train` process leaves, byte for byte
// (timings aside), and a process that died or failed must not carry its state to the next trial.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fa-trainers-"));
const pools: TrainerPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ENGINE = "test-engine";

function pool(): TrainerPool {
  const p = new TrainerPool();
  pools.push(p);
  return p;
}

/** `train` arguments for a small trial into tmp/<name>. */
function trial(name: string, sets: Record<string, unknown>): { args: string[]; dir: string } {
  const dir = path.join(tmp, name);
  const all = { hiddenUnits: [16], epochs: 2, threads: 1, tensorBoard: false, ...sets };
  return {
    dir,
    args: [
      "train",
      "--out",
      dir,
      "--force",
      "--no-figures",
      ...Object.entries(all).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]),
    ],
  };
}

/** Runs a trial on slot 0; `onEpoch` sees each report (the trial's history so far). */
async function runOn(p: TrainerPool, t: { args: string[]; dir: string }, onEpoch?: (run: TrialRun, epochs: number) => void) {
  const run = await p.run(0, t.args, `${t.dir}.log`, ENGINE);
  run.on("message", (m: unknown) => {
    if (isEpochReport(m)) onEpoch?.(run, m.history.loss?.length ?? 0);
  });
  return { code: await run.closed, pid: run.pid };
}

/** Every file of a run folder but those that hold times or dates, with its bytes. */
function contents(dir: string): Record<string, Buffer> {
  const timed = new Set(["environment.json", "history.json", "checkpoints/last.json", "checkpoints/best.json", ".lock"]);
  const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
  return Object.fromEntries(files.filter((f) => !timed.has(f)).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

/** history.json without its wall times. */
const history = (dir: string) => {
  const { seconds: _, ...rest } = JSON.parse(fs.readFileSync(path.join(dir, "history.json"), "utf8"));
  return rest;
};

describe("a search's long-lived trainer processes", () => {
  // Adam keeps optimizer slots, dropout draws its own seeded masks, two layers: the state a reused process could leak.
  const target = { optimizer: "adam", learningRate: 0.003, hiddenUnits: [24, 12], dropout: 0.2, seed: 7 };

  it("a trial on a process that trained and was stopped before gives the fresh process's weights, history and files", async () => {
    const reused = pool();
    // A first trial stopped after its first epoch (as a pruner stops one), then the target on the same process. It
    // asks for many epochs so that the stop, however late a busy machine delivers it, lands mid-training and not
    // after the last epoch (where train has nothing left to stop and exits 0).
    const first = await runOn(
      reused,
      trial("stopped", { optimizer: "sgd", momentum: 0.9, epochs: 40 }),
      (run, e) => e === 1 && run.kill("SIGTERM"),
    );
    expect(first.code).toBe(143);
    const second = await runOn(reused, trial("reused", target));
    expect(second).toEqual({ code: 0, pid: first.pid });
    const fresh = await runOn(pool(), trial("fresh", target));
    expect(fresh.code).toBe(0);
    expect(fresh.pid).not.toBe(first.pid);
    expect(history(path.join(tmp, "reused"))).toEqual(history(path.join(tmp, "fresh")));
    const [a, b] = [contents(path.join(tmp, "reused")), contents(path.join(tmp, "fresh"))];
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect(Object.keys(a)).toContain("checkpoints/epoch-002/weights.bin");
    for (const f of Object.keys(b)) expect(a[f]!.equals(b[f]!), f).toBe(true);
  });

  it("a stop that arrives while the trial loads (a late prune) stops that trial before its first batch, and the process takes the next trial", async () => {
    const p = pool();
    const warm = await runOn(p, trial("warm", { epochs: 1 }));
    expect(warm.code).toBe(0);
    // Sent right behind the trial: the process is still parsing its arguments and loading when the stop arrives.
    const run = await p.run(0, trial("late", { epochs: 2 }).args, `${path.join(tmp, "late")}.log`, ENGINE);
    run.kill("SIGTERM");
    expect(await run.closed).toBe(143);
    expect(run.pid).toBe(warm.pid);
    const next = await runOn(p, trial("after-late", { epochs: 1 }));
    expect(next).toEqual({ code: 0, pid: warm.pid });
  });

  it("a process killed mid-trial ends its trial with no exit code, and the next trial gets a new process", async () => {
    const p = pool();
    // Many epochs for the same reason as above: the kill must land mid-training on a busy machine too.
    const killed = await runOn(p, trial("killed", { epochs: 40 }), (run) => process.kill(run.pid!, "SIGKILL"));
    expect(killed.code).toBeNull();
    const next = await runOn(p, trial("after-kill", { epochs: 1 }));
    expect(next.code).toBe(0);
    expect(next.pid).not.toBe(killed.pid);
  });

  it("a failed trial ends with train's exit code and its process is replaced; a trial of another engine gets its own", async () => {
    const p = pool();
    // Refused by the config before training: exit 2, in the trial's log.
    const bad = await runOn(p, trial("bad", { learningRate: -1 }));
    expect(bad.code).toBe(2);
    expect(fs.readFileSync(path.join(tmp, "bad.log"), "utf8")).toMatch(/learningRate/);
    const next = await runOn(p, trial("after-bad", { epochs: 1 }));
    expect(next.code).toBe(0);
    expect(next.pid).not.toBe(bad.pid);
    const t = trial("other-engine", { epochs: 1 });
    const other = await p.run(0, t.args, `${t.dir}.log`, "another-engine");
    expect(await other.closed).toBe(0);
    expect(other.pid).not.toBe(next.pid);
  });
});
