import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./spawn";

// Part 5 of issue 21: with --search-seed, the trial table does not depend on how many workers ran the study.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fa-repro-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SPACE = {
  learningRate: { type: "Float", min_value: 0.001, max_value: 0.3, sampling: "log" },
  nNeurons: { type: "Int", min_value: 8, max_value: 32, step: 8 },
  optimizer: { type: "Choice", values: ["sgd", "adam"] },
  nHidden: { type: "Fixed", value: 1 },
};

/** trials.csv without the wall-time column, the one thing allowed to differ: one string per trial, by id. */
function table(out: string): string[] {
  const [head, ...rows] = fs.readFileSync(path.join(out, "trials.csv"), "utf8").trim().split("\n");
  const columns = head!.split(",");
  const keep = columns.map((c, i) => (c === "seconds" ? -1 : i)).filter((i) => i >= 0);
  return rows.map((r) => keep.map((i) => r.split(",")[i]).join(",")).sort();
}

describe("a seeded study gives the same trial table with 1 and 3 workers", () => {
  it("same params per trial id, same ASHA decisions, same epochs and scores", async () => {
    const space = path.join(tmp, "space.json");
    fs.writeFileSync(space, JSON.stringify(SPACE));
    const study = async (parallel: number) => {
      const out = path.join(tmp, `p${parallel}`);
      const r = await runCli(
        ["search", "--space", space, "--max-trials", "7", "--max-epochs", "4", "--pruner", "asha", "--search-seed", "42"].concat([
          "--parallel",
          String(parallel),
          "--no-retrain",
          "--no-tensorboard",
          "--out",
          out,
        ]),
        { timeout: 900_000 },
      );
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      return table(out);
    };
    const one = await study(1);
    expect(one).toHaveLength(7);
    expect(one.some((row) => row.includes(",pruned,"))).toBe(true);
    expect(await study(3)).toEqual(one);
  }, 1_800_000);
});
