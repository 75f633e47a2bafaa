// sweep as a grid search: stopped by SIGTERM mid-way (its trainer stops too), re-run to completion without
// repeating a finished run, and each run folder stays a normal run for compare.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, ROOT, runCli } from "./spawn";

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-sweep-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("sweep --grid (a grid search)", () => {
  it("SIGTERM stops the sweep and its trainer; the same command then finishes without repeating a run", async () => {
    const out = path.join(tmp, "lr");
    // Flag name and field name, and the array syntax.
    // wasm: with the native engine these tiny runs could end before SIGTERM lands mid-sweep.
    const args = [
      "sweep",
      "--grid",
      "learning-rate=0.01",
      "--grid",
      "hiddenUnits=[8];[4]",
      "--epochs",
      "3",
      "--backend",
      "wasm",
      "--out",
      out,
    ];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Stop once trial-000 has kept its first epoch; its trainer holds the run folder's lock with its pid.
    const last = path.join(out, "trials", "trial-000", "checkpoints", "last.json");
    const lock = path.join(out, "trials", "trial-000", ".lock");
    let trainer = 0;
    // Polled every 50 ms: the signal must land while trial-000's last two epochs run, so it follows the file closely.
    for (let t = 0; t < 6000 && !fs.existsSync(last); t++) {
      if (!trainer && fs.existsSync(lock)) trainer = Number(/"?pid"?\s*[:=]\s*(\d+)/.exec(fs.readFileSync(lock, "utf8"))?.[1] ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fs.existsSync(last), log).toBe(true);
    child.kill("SIGTERM");
    expect(await exit, log).toBe(143);
    expect(log).toMatch(/sweep interrupted by SIGTERM.*Re-run the same command to continue/);
    if (trainer) expect(alive(trainer)).toBe(false);

    const again = await runCli(args, { timeout: 600_000 });
    expect(again.status, again.stdout + again.stderr).toBe(0);
    // trial-000 continues from its kept epoch (not started again); trial-001 starts. Three epochs leave room for
    // the kill to land mid-trial even when these tiny epochs take under a second.
    expect(again.stdout).toMatch(/trial-000: continue epochs [23]\.\.3/);
    expect(again.stdout).not.toMatch(/trial-000: start/);
    expect(again.stdout).toMatch(/trial-001: start \{"hiddenUnits":\[4\],"learningRate":0.01\}/);
    expect(again.stdout).toMatch(/best: trial-00[01] .*val_accuracy 0\.\d+ at epoch [123]/);
    const csv = fs.readFileSync(path.join(out, "trials.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(3);
    // Sorted: best val_accuracy first.
    const column = csv[0]!.split(",").indexOf("val_accuracy");
    const acc = csv.slice(1).map((r) => Number(r.split(",")[column]));
    expect(acc[0]).toBeGreaterThanOrEqual(acc[1]!);

    const third = await runCli(args, { timeout: 120_000 });
    expect(third.status).toBe(0);
    expect(third.stdout).not.toMatch(/trial-00\d: (start|continue)/);

    const cmp = await runCli(["compare", ...["trial-000", "trial-001"].map((t) => path.join(out, "trials", t)), "--out", out]);
    expect(cmp.status, cmp.stderr).toBe(0);
    expect(cmp.stdout).toMatch(/trial-000[\s\S]*trial-001|trial-001[\s\S]*trial-000/);
  }, 900_000);
});
