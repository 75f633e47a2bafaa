import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./spawn";

describe("fashion-ann lr-find (real data, a [32] model)", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-lr-find-")), "lr");

  it("searches one epoch, saves the loss-vs-rate PNG and prints a suggestion inside the searched range", async () => {
    const r = await runCli(["lr-find", "--set", "hiddenUnits=[32]", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const suggested = r.stdout.match(/^suggested learning rate: ([\d.e-]+) \(try --learning-rate \1\)$/m);
    expect(suggested, r.stdout).not.toBeNull();
    const png = fs.readFileSync(path.join(out, "figures", "lr_finder.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const saved = JSON.parse(fs.readFileSync(path.join(out, "lr_finder.json"), "utf8"));
    expect(saved.config.hiddenUnits).toEqual([32]);
    expect(saved.rates.length).toBe(saved.losses.length);
    // Most of the 1,719 batches run before the loss explodes (the rate passes 0.1 around batch 1,400).
    expect(saved.rates.length).toBeGreaterThan(1000);
    expect(saved.rates[0]).toBeCloseTo(1e-5, 12);
    expect(Number(suggested![1])).toBeCloseTo(saved.suggestion, 1 - Math.floor(Math.log10(saved.suggestion)));
    expect(saved.suggestion).toBeGreaterThan(1e-5);
    expect(saved.suggestion).toBeLessThan(saved.rates.at(-1));
    // The curve dips before it explodes: the best smoothed loss is far below the first (about ln 10).
    expect(Math.min(...saved.smoothed)).toBeLessThan(0.5 * saved.smoothed[0]);
  });

  it("refuses a bad config value with exit code 2 before loading anything", async () => {
    // Neither loads or writes anything, so both run at once.
    const [r, rates] = await Promise.all([
      runCli(["lr-find", "--set", "dropout=1", "--out", out]),
      runCli(["lr-find", "--min-rate", "1", "--max-rate", "0.1", "--out", out]),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dropout: dropout must be below 1.*got 1/);
    expect(rates.status).toBe(2);
    expect(rates.stderr).toMatch(/--min-rate and --max-rate must satisfy 0 < min < max, got --min-rate 1 and --max-rate 0\.1/);
  });
});
