// `search --export` read back by Optuna 5.0.0 and pandas from .venv (test/optuna/load_study.py): the journal must
// replay as the same trials, states, params with their distributions, values and intermediate values, Optuna's
// best_params must be ours, and Optuna's get_param_importances must rank the parameters as our PED-ANOVA does.
// Without Optuna in .venv it is skipped with a note, except under CI=true, where it fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paramImportances } from "../../lib/search/analysis/importance";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace } from "../../lib/search/core/space";
import type { TrialRecord } from "../../lib/search/core/study";
import { exportStudy } from "../../lib/search/export";
import { ROOT, run, runCli } from "./spawn";

const python = path.join(ROOT, ".venv", "bin", "python");
const available = fs.existsSync(python) && fs.existsSync(path.join(ROOT, ".venv", ".stamp-optuna"));
const mustRun = process.env.CI === "true";
if (!available && !mustRun) console.warn("search-export.test.ts skipped: Optuna is not in .venv (bash scripts/python-env.sh optuna)");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-export-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Loaded {
  direction: string;
  trials: {
    number: number;
    state: string;
    value: number | null;
    params: Record<string, unknown>;
    distributions: Record<string, { name: string; attributes: Record<string, unknown> }>;
    intermediate_values: Record<string, number | "NaN">;
    user_attrs: Record<string, unknown>;
  }[];
  best_params?: Record<string, unknown>;
  importances?: Record<string, number>;
  fanova?: Record<string, number>;
  csv?: { columns: string[]; dtypes: Record<string, string>; rows: Record<string, unknown>[]; exact_floats: Record<string, number[]> };
}

async function loadInOptuna(journal: string, name: string, csv?: string): Promise<Loaded> {
  const r = await run(python, [path.join(ROOT, "test", "optuna", "load_study.py"), journal, name, ...(csv ? [csv] : [])], {
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const requireOptuna = () => {
  if (!available) throw new Error("CI=true: Optuna must be tested, but .venv lacks it; run bash scripts/setup.sh");
};

describe.runIf(available || mustRun)("an exported study, loaded by Optuna 5.0.0", () => {
  it("replays every kind of trial and parameter: states, values, params, distributions, intermediate values", async () => {
    requireOptuna();
    const fields = ["learningRate", "batchSize", "hiddenUnits", "batchNorm", "optimizer", "momentum", "epochs"];
    const space = parseSearchSpace(
      {
        learningRate: { type: "float", min: 1e-4, max: 0.1, log: true },
        batchSize: { type: "int", min: 16, max: 128, step: 16 },
        epochs: { type: "int", min: 2, max: 64, step: 2, log: true },
        hiddenUnits: { type: "choice", values: [[300, 100], [64]] },
        batchNorm: { type: "bool" },
        optimizer: { type: "choice", values: ["sgd", "adam"] },
        momentum: { type: "fixed", value: 0.9 },
      },
      fields,
    );
    const p = (lr: number, bs: number, ep: number, hu: number[], bn: boolean, opt: string) =>
      ({
        learningRate: lr,
        batchSize: bs,
        epochs: ep,
        hiddenUnits: hu,
        batchNorm: bn,
        optimizer: opt,
        momentum: 0.9,
      }) as TrialRecord["params"];
    const t = (i: number, status: TrialRecord["status"], params: TrialRecord["params"], history: number[]): TrialRecord => ({
      id: `trial-00${i}`,
      params,
      status,
      bracket: 0,
      round: 0,
      epochsTarget: 3,
      history,
    });
    const trials = [
      t(0, "completed", p(0.01, 32, 4, [300, 100], false, "sgd"), [0.7, Number.NaN, 0.81]),
      t(1, "pruned", p(0.0003, 128, 2, [64], true, "adam"), [0.4, 0.45]),
      t(2, "failed", p(0.09, 16, 64, [64], false, "sgd"), []),
      t(3, "completed", p(0.002, 64, 8, [64], true, "adam"), [Number.NaN]),
      t(4, "completed", p(0.004, 48, 16, [300, 100], true, "adam"), [0.8, 0.86, 0.85]),
      t(5, "running", p(0.05, 80, 32, [64], false, "sgd"), [0.6]),
      t(6, "pending", p(0.0001, 96, 2, [300, 100], false, "adam"), []),
    ];
    const out = exportStudy(path.join(tmp, "synthetic"), "synthetic study", space, objectiveFor("val_accuracy"), trials);
    const loaded = await loadInOptuna(out.journal, "synthetic study", out.csv);

    expect(loaded.direction).toBe("MAXIMIZE");
    expect(loaded.trials.map((x) => [x.number, x.state, x.value])).toEqual([
      [0, "COMPLETE", 0.81],
      [1, "PRUNED", 0.45],
      [2, "FAIL", null],
      [3, "FAIL", null],
      [4, "COMPLETE", 0.86],
      [5, "RUNNING", null],
      [6, "WAITING", null],
    ]);
    expect(loaded.trials[0]!.params).toEqual({
      learningRate: 0.01,
      batchSize: 32,
      epochs: 4,
      hiddenUnits: "[300,100]",
      batchNorm: false,
      optimizer: "sgd",
    });
    expect(loaded.trials[0]!.distributions).toEqual({
      learningRate: { name: "FloatDistribution", attributes: { low: 1e-4, high: 0.1, log: true, step: null } },
      batchSize: { name: "IntDistribution", attributes: { low: 16, high: 128, log: false, step: 16 } },
      epochs: { name: "CategoricalDistribution", attributes: { choices: [2, 4, 8, 16, 32, 64] } },
      hiddenUnits: { name: "CategoricalDistribution", attributes: { choices: ["[300,100]", "[64]"] } },
      batchNorm: { name: "CategoricalDistribution", attributes: { choices: [false, true] } },
      optimizer: { name: "CategoricalDistribution", attributes: { choices: ["sgd", "adam"] } },
    });
    expect(loaded.trials[0]!.intermediate_values).toEqual({ "1": 0.7, "2": "NaN", "3": 0.81 });
    expect(loaded.trials[6]!.intermediate_values).toEqual({});
    expect(loaded.trials[4]!.user_attrs).toEqual({
      fashion_ann_id: "trial-004",
      fashion_ann_status: "completed",
      epochs_run: 3,
      best_epoch: 2,
    });
    expect(loaded.best_params).toEqual({
      learningRate: 0.004,
      batchSize: 48,
      epochs: 16,
      hiddenUnits: "[300,100]",
      batchNorm: true,
      optimizer: "adam",
    });

    const csv = loaded.csv!;
    expect(csv.columns).toEqual([
      "number",
      "trial",
      "state",
      "value",
      "best_epoch",
      "epochs_run",
      "params_batchNorm",
      "params_batchSize",
      "params_epochs",
      "params_hiddenUnits",
      "params_learningRate",
      "params_optimizer",
    ]);
    expect(csv.dtypes.params_learningRate).toBe("float64");
    expect(csv.dtypes.params_batchSize).toBe("int64");
    expect(csv.dtypes.params_batchNorm).toBe("bool");
    expect(csv.rows.map((r) => [r.trial, r.state, r.value, r.params_hiddenUnits])).toEqual([
      ["trial-000", "COMPLETE", 0.81, "[300,100]"],
      ["trial-001", "PRUNED", 0.45, "[64]"],
      ["trial-002", "FAIL", null, "[64]"],
      ["trial-003", "FAIL", null, "[64]"],
      ["trial-004", "COMPLETE", 0.86, "[300,100]"],
      ["trial-005", "RUNNING", 0.6, "[64]"],
      ["trial-006", "WAITING", null, "[300,100]"],
    ]);
  }, 180_000);

  describe("a real search, exported with search --export", () => {
    const out = path.join(tmp, "study");
    const exportDir = path.join(tmp, "export");
    let stdout = "";
    let loaded: Loaded;
    const space = {
      learningRate: { type: "float", min: 0.0003, max: 0.3, log: true },
      optimizer: { type: "choice", values: ["sgd", "adam"] },
      nNeurons: { type: "int", min: 8, max: 32, log: true },
    };

    beforeAll(async () => {
      requireOptuna();
      fs.writeFileSync(path.join(tmp, "space.json"), JSON.stringify(space));
      // 6 one-epoch trials of a small MLP, two at a time: a real study, with a learning rate that matters.
      const r = await runCli(
        [
          "search",
          "--space",
          path.join(tmp, "space.json"),
          "--max-trials",
          "6",
          "--max-epochs",
          "1",
          "--parallel",
          "2",
          "--hidden",
          "16",
          "--out",
          out,
          "--export",
          exportDir,
          "--no-retrain",
          "--set",
          "tensorBoard=false",
        ],
        { timeout: 900_000 },
      );
      stdout = r.stdout;
      expect(r.status, r.stderr + r.stdout).toBe(0);
      loaded = await loadInOptuna(path.join(exportDir, "optuna-journal.log"), "study", path.join(exportDir, "study.csv"));
    }, 1_000_000);

    const ours = () =>
      fs
        .readdirSync(path.join(out, "trials"))
        .filter((f) => /^trial-\d+$/.test(f))
        .sort()
        .map(
          (id) =>
            JSON.parse(fs.readFileSync(path.join(out, "trials", id, "trial.json"), "utf8")) as {
              id: string;
              status: string;
              params: Record<string, unknown>;
              history: number[];
            },
        );

    it("gives the same trials, params, values and intermediate values", () => {
      const trials = ours();
      expect(trials).toHaveLength(6);
      expect(loaded.trials).toHaveLength(6);
      loaded.trials.forEach((t, i) => {
        const mine = trials[i]!;
        expect(t.user_attrs.fashion_ann_id).toBe(mine.id);
        expect(t.state).toBe("COMPLETE");
        const { nHidden, ...searched } = mine.params;
        expect(t.params).toEqual(searched);
        expect(t.value).toBe(Math.max(...mine.history));
        expect(t.intermediate_values).toEqual(Object.fromEntries(mine.history.map((v, e) => [String(e + 1), v])));
      });
      expect(Object.keys(loaded.trials[0]!.distributions).sort()).toEqual(["learningRate", "nNeurons", "optimizer"]);
    });

    it("Optuna's best_params are the best trial the search printed", () => {
      const best = stdout.match(/^best: (trial-\d+) (\{.*\}), val_accuracy/m);
      expect(best, stdout).not.toBeNull();
      const { nHidden, ...searched } = JSON.parse(best![2]!);
      expect(loaded.best_params).toEqual(searched);
    });

    it("Optuna's get_param_importances ranks the parameters as ours, with the same numbers", () => {
      const trials = ours().map((t) => ({ params: t.params as Record<string, string | number>, value: Math.max(...t.history) }));
      const mine = paramImportances(
        trials,
        {
          learningRate: { kind: "float", low: 0.0003, high: 0.3, log: true },
          optimizer: { kind: "categorical", choices: ["sgd", "adam"] },
          nNeurons: { kind: "int", low: 8, high: 32, log: true, step: 1 },
        },
        "max",
      );
      console.log(
        `importances: ours ${JSON.stringify(mine)}; Optuna PED-ANOVA ${JSON.stringify(loaded.importances)}; Optuna fANOVA ${JSON.stringify(loaded.fanova)}`,
      );
      expect(Object.keys(mine)).toEqual(Object.keys(loaded.importances!));
      for (const k of Object.keys(mine)) expect(mine[k]!).toBeCloseTo(loaded.importances![k]!, 9);
      // The search's own log line names the same order.
      const line = stdout.match(/^importances \(PED-ANOVA\): (.*)$/m)![1]!;
      expect(line.split(", ").map((s) => s.split(" ")[0])).toEqual(Object.keys(mine));
    });

    it("pandas reads study.csv with one column per hyperparameter", () => {
      const csv = loaded.csv!;
      expect(csv.columns.filter((c) => c.startsWith("params_"))).toEqual(["params_learningRate", "params_nNeurons", "params_optimizer"]);
      // The shortest round-trip digits are written: read with float_precision="round_trip" they are the same doubles;
      // pandas' default parser trades the last digits for speed (measured here: up to 1.4e-13 off).
      const lrs = ours().map((t) => t.params.learningRate as number);
      expect(csv.exact_floats.params_learningRate).toEqual(lrs);
      const read = csv.rows.map((r) => r.params_learningRate as number);
      lrs.forEach((lr, i) => expect(Math.abs(read[i]! / lr - 1)).toBeLessThan(1e-12));
      expect(csv.rows.map((r) => r.trial)).toEqual(ours().map((t) => t.id));
    });

    it("draws the six study figures as PNG and SVG, and report.html holds them inline", () => {
      for (const name of ["study_history", "study_intermediate", "study_parallel", "study_slice", "study_contour", "study_importances"]) {
        for (const ext of ["png", "svg"]) expect(fs.existsSync(path.join(out, "figures", `${name}.${ext}`)), `${name}.${ext}`).toBe(true);
      }
      const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
      expect(html).not.toMatch(/<script/i);
      expect(html.match(/src="data:image\/svg\+xml;base64,/g)).toHaveLength(6);
      expect(html).toContain("Hyperparameter importances");
    });
  });
});
