import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { changedFields, comparisonTable, formatComparison, listRuns, summarizeRuns } from "../../lib/runs/compare";
import { collectSet, overridesWithSet, positive, seconds } from "../../lib/cli/flags";
import { collectGrid, combinationName, gridCombinations, gridSpace } from "../../lib/cli/commands/sweep";
import { buildCli } from "../../lib/cli/main";
import { skipFiles } from "../../lib/cli/commands/compare";
import { BACKENDS, resolveConfig } from "../../lib/config";
import { historyToCsv } from "../../lib/results/history";
import { loadImagePng } from "../../lib/data/png-input";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-cli-"));

describe("--set key=value", () => {
  it("parses JSON values and keeps strings", () => {
    let acc = collectSet("epochs=5");
    acc = collectSet("hiddenUnits=[100,50]", acc);
    acc = collectSet("backend=wasm", acc);
    expect(acc).toEqual({ epochs: 5, hiddenUnits: [100, 50], backend: "wasm" });
  });
  it.each(["epochs", "=5", ""])("refuses %j naming the expected form", (bad) => {
    expect(() => collectSet(bad)).toThrow(/--set expects key=value \(e.g. --set learningRate=0.05\)/);
  });
  it("refuses a field given both as a flag and with --set", () => {
    expect(() => overridesWithSet({ epochs: 3, set: { epochs: 4 } })).toThrow(/epochs given both as a flag and with --set/);
  });
  it("unknown --set keys are refused by resolveConfig with the allowed list", () => {
    expect(() => resolveConfig(overridesWithSet({ set: collectSet("epoch=3") }))).toThrow(/unknown config field "epoch"; allowed: epochs/);
  });
});

describe("duration and count flags", () => {
  it.each([
    ["10", 10],
    ["0.5", 0.5],
    [" 2 ", 2],
  ])("seconds reads %j as %d", (raw, n) => {
    expect(seconds("--heartbeat")(raw)).toBe(n);
  });
  it.each(["0", "-1", "10s", "", "Infinity", "NaN"])("seconds refuses %j naming the flag and the expected form", (bad) => {
    expect(() => seconds("--heartbeat")(bad)).toThrow(
      new RegExp(`^--heartbeat expects a number of seconds > 0 \\(such as 10 or 0\\.5\\), got "${bad}"$`),
    );
  });
  it.each(["0", "-3", "1.5", "two"])("positive refuses %j", (bad) => {
    expect(() => positive("--max-trials")(bad)).toThrow(/^--max-trials expects (a positive integer|an integer), got/);
  });
  it("the search command's duration flags all use the one seconds parser (exit 2 with its sentence)", () => {
    for (const flag of ["--heartbeat", "--heartbeat-timeout", "--storage-retry"]) {
      const r = spawnSync(
        process.execPath,
        [
          path.join(__dirname, "..", "..", "dist", "lib", "cli", "main.js"),
          "search",
          "--space",
          "s.json",
          "--max-epochs",
          "1",
          "--out",
          "o",
          flag,
          "0",
        ],
        { encoding: "utf8" },
      );
      expect(r.status, flag).toBe(2);
      expect(r.stderr, flag).toMatch(new RegExp(`${flag} expects a number of seconds > 0 \\(such as 10 or 0\\.5\\), got "0"`));
    }
  });
});

describe("sweep grid", () => {
  it("expands the product of the grids, last field fastest", () => {
    const grid = collectGrid("batchSize=32,128", collectGrid("learningRate=0.003,0.01"));
    expect(gridCombinations(grid)).toEqual([
      { learningRate: 0.003, batchSize: 32 },
      { learningRate: 0.003, batchSize: 128 },
      { learningRate: 0.01, batchSize: 32 },
      { learningRate: 0.01, batchSize: 128 },
    ]);
  });
  it("splits arrays on ';'", () => {
    expect(collectGrid("hiddenUnits=[300,100];[100]")).toEqual({ hiddenUnits: [[300, 100], [100]] });
    expect(combinationName({ hiddenUnits: [300, 100], learningRate: 0.01 })).toBe("hiddenUnits-300x100_learningRate-0.01");
  });
  it.each([
    ["learning-rate=0.003,0.01", "learningRate"],
    ["--batch-size=32,64", "batchSize"],
    ["hidden=[32];[16,16]", "hiddenUnits"],
    ["batch-norm=false,true", "batchNorm"],
    ["lr-schedule=null", "lrSchedule"],
    ["learningRate=0.003,0.01", "learningRate"],
  ])("takes the flag name or the field name: %j is %s", (given, field) => {
    expect(Object.keys(collectGrid(given))).toEqual([field]);
  });
  it("turns the grid into the grid tuner's search space, one choice per field", () => {
    const grid = collectGrid("hidden=[32];[16,16]", collectGrid("learning-rate=0.01,0.03"));
    expect(gridSpace(grid)).toEqual({
      learningRate: { type: "choice", values: [0.01, 0.03] },
      hiddenUnits: { type: "choice", values: [[32], [16, 16]] },
    });
  });
  it("documents the array syntax and flag names in sweep --help", () => {
    let help = "";
    const sweep = buildCli().commands.find((c) => c.name() === "sweep")!;
    sweep.configureOutput({ writeOut: (t) => (help += t) });
    sweep.outputHelp();
    expect(help).toMatch(/hiddenUnits=\[32\];\[16,16\]/);
    expect(help).toMatch(/learningRate or learning-rate/);
  });
  it.each([
    ["learning-rate=0.1", /--grid learning-rate: learningRate is already in the grid/],
    ["learningrate=0.1", /--grid learningrate: not a config field or flag; allowed: epochs, batchSize/],
    ["learningRate", /--grid expects field=v1,v2,...(.|\n)*got "learningRate"/],
    ["epochs=1,,2", /--grid epochs: empty value in "1,,2"/],
  ])("refuses %j", (bad, message) => {
    expect(() => collectGrid(bad, bad.startsWith("learning-rate") ? collectGrid("learningRate=0.01") : {})).toThrow(message);
  });
});

describe("the command line", () => {
  const parse = async (...args: string[]) => {
    const program = buildCli()
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    program.commands.forEach((c) => c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
    await program.parseAsync(["node", "fashion-ann", ...args]);
  };
  it.each([
    [["train", "--epochs", "x"], /--epochs expects an integer, got "x"/],
    [["train", "--frobnicate"], /unknown option '--frobnicate'/],
    [["train", "--backend", "tpu"], /Allowed choices are auto, tensorflow, native, wasm, cpu/],
    [["sweep", "--grid", "nope=1"], /--grid nope: not a config field/],
    [["sweep", "--grid", "epochs=1", "--parallel", "0"], /--parallel expects a positive integer, got "0"/],
    [["predict"], /missing required argument 'run'/],
    [["compare"], /missing required argument 'runs'/],
    [["bogus"], /unknown command 'bogus'/],
  ])("%j is refused with a message naming it", async (args, message) => {
    await expect(parse(...args)).rejects.toThrow(message);
  });
  it("--backend offers every engine the config knows, on every command that trains", () => {
    const training = buildCli().commands.filter((c) => c.options.some((o) => o.long === "--backend"));
    expect(training.map((c) => c.name())).toEqual(expect.arrayContaining(["train", "sweep", "search"]));
    for (const c of training) expect(c.options.find((o) => o.long === "--backend")?.argChoices).toEqual(["auto", ...BACKENDS]);
  });
  it("every command has --help", () => {
    for (const c of buildCli().commands) expect(c.helpInformation()).toMatch(/-h, --help/);
  });
});

describe("compare", () => {
  function fakeRun(dir: string, lr: number, valAcc: number[], test: number, more: Parameters<typeof resolveConfig>[0] = {}) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(resolveConfig({ ...more, learningRate: lr, epochs: valAcc.length })));
    const history = {
      epoch: valAcc.map((_, i) => i),
      history: { loss: valAcc.map(() => 0.5), accuracy: valAcc, val_loss: valAcc.map(() => 0.4), val_accuracy: valAcc },
      params: { epochs: 0, steps: 0, batchSize: 0, samples: 0 },
    };
    fs.writeFileSync(path.join(dir, "history.csv"), historyToCsv(history));
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify({ ...history, seconds: 12.4 }));
    fs.writeFileSync(path.join(dir, "metrics.json"), JSON.stringify({ test_loss: 0.3, test_accuracy: test }));
  }
  it("a damaged run among good ones is named and left out; alone, or all damaged, it is the error", () => {
    const root = tmp();
    fakeRun(path.join(root, "a"), 0.01, [0.8, 0.85, 0.84], 0.83);
    fakeRun(path.join(root, "bad"), 0.03, [0.82, 0.81, 0.86], 0.85);
    fs.writeFileSync(path.join(root, "bad", "config.json"), '{"epochs": 3, "hiddenUnits": [8');
    const skipped: string[] = [];
    const s = summarizeRuns([path.join(root, "a"), path.join(root, "bad")], (dir, err) => skipped.push(`${dir}: ${err.message}`));
    expect(s.map((r) => r.name)).toEqual(["a"]);
    expect(skipped).toEqual([expect.stringMatching(/bad: .*bad\/config\.json is not valid JSON .*the file is damaged/)]);
    expect(() => summarizeRuns([path.join(root, "bad")])).toThrow(/config\.json is not valid JSON/);
    expect(() => summarizeRuns([path.join(root, "bad")], () => {})).toThrow(/none of the 1 run folders could be read/);
  });
  it("finds the changed hyperparameters and each run's best epoch", () => {
    const root = tmp();
    fakeRun(path.join(root, "a"), 0.01, [0.8, 0.85, 0.84], 0.83);
    fakeRun(path.join(root, "b"), 0.03, [0.82, 0.81, 0.86], 0.85);
    const s = summarizeRuns([path.join(root, "a"), path.join(root, "b")]);
    expect(changedFields(s)).toEqual(["learningRate"]);
    expect(s.map((r) => [r.bestValAccuracy, r.bestEpoch, r.testAccuracy, r.seconds])).toEqual([
      [0.85, 2, 0.83, 12.4],
      [0.86, 3, 0.85, 12.4],
    ]);
    const table = comparisonTable(s).toString();
    expect(table).toMatch(/│ run +│ lr +│ epochs +│ best_val_acc +│ best_epoch +│ test_acc +│ seconds +║/);
    expect(table).toMatch(/│ a +│ 0.01 +│ 3 +│ 0.85 +│ 2 +│ 0.83 +│ 12 +║/);
    // Two runs that differ in one field: one table, a short one.
    const text = formatComparison(s);
    expect(text).toMatch(/^╔/);
    expect(text).toMatch(/║ a +│ 0.01 +│ 3 +│ 0.85 +│ 2 +│ 0.83 +│ 12 +║/);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThan(80);
  });
  it("formatComparison fits a run that changed 14 fields into 100 columns: only what differs, short names, split and wrapped", () => {
    const root = tmp();
    fakeRun(path.join(root, "base"), 0.01, [0.8], 0.8);
    fakeRun(path.join(root, "many"), 0.02, [0.8], 0.8, {
      batchSize: 64,
      hiddenUnits: [64, 32],
      activation: "selu",
      initializer: "lecun_normal",
      batchNorm: true,
      dropout: 0.1,
      l2: 0.0001,
      optimizer: "sgd",
      momentum: 0.9,
      nesterov: true,
      lrSchedule: { type: "exponential", decaySteps: 17200, decayRate: 0.1 },
      clipNorm: 1,
      normalize: "standardize",
    });
    const s = summarizeRuns([path.join(root, "base"), path.join(root, "many")]);
    const text = formatComparison(s, 100);
    const lines = text.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines.filter((l) => /^(hyperparameters that differ|results)/.test(l))).toEqual([
      "hyperparameters that differ (1/2):",
      "hyperparameters that differ (2/2):",
      "results:",
    ]);
    for (const name of ["batch", "hidden", "lr", "act", "init", "bn", "dropout", "l2", "mom", "nesterov", "schedule", "clipnorm", "norm"])
      expect(text).toMatch(new RegExp(`│ ${name} +[│║]`));
    // Unchanged fields get no column; every part names the runs.
    expect(text).not.toMatch(/seed|validationSize|val_size|\bopt\b/);
    expect(text.match(/║ many +│/g)).toHaveLength(3);
    // The schedule wraps inside its cell rather than widening the table.
    expect(text).toMatch(/exponential\(decaySteps=17200, +│[\s\S]*│ decayRate=0\.1\) +│/);
    expect(text).toMatch(/║ many +│ 1 +│ 0\.8 +│ 1 +│ 0\.8 +│ 12 +║/);
  });
  it("compare runs/x/trials/* skips the files among the folders with a note (a search.log), not an error", () => {
    const root = tmp();
    fakeRun(path.join(root, "trials", "trial-000"), 0.01, [0.8], 0.8);
    fakeRun(path.join(root, "trials", "trial-001"), 0.03, [0.8], 0.8);
    fs.writeFileSync(path.join(root, "trials", "search.log"), "log\n");
    const paths = ["search.log", "trial-000", "trial-001"].map((f) => path.join(root, "trials", f));
    const notes: string[] = [];
    expect(skipFiles(paths, (l) => notes.push(l))).toEqual(paths.slice(1));
    expect(notes).toEqual([`compare: skipped ${paths[0]}: a file, not a run folder`]);
    // Only files: kept, so the run-folder check names what was expected; a missing path is kept for its own error.
    expect(skipFiles([paths[0]!], (l) => notes.push(l))).toEqual([paths[0]]);
    expect(skipFiles([path.join(root, "nope"), paths[0]!], (l) => notes.push(l))).toEqual([path.join(root, "nope")]);
  });
  it("listRuns finds runs and sweep members as absolute paths", () => {
    const root = tmp();
    fakeRun(path.join(root, "a"), 0.01, [0.8], 0.8);
    fakeRun(path.join(root, "sweep", "b"), 0.03, [0.8], 0.8);
    fakeRun(path.join(root, "sweep-grid", "trials", "trial-000"), 0.03, [0.8], 0.8);
    fs.mkdirSync(path.join(root, "empty"));
    const rel = path.relative(process.cwd(), root);
    expect(listRuns(rel).sort()).toEqual([
      path.join(root, "a"),
      path.join(root, "sweep-grid", "trials", "trial-000"),
      path.join(root, "sweep", "b"),
    ]);
  });

  it("a folder that is not a run is named in the error", () => {
    expect(() => summarizeRuns([tmp()])).toThrow(/no config.json; expected a run folder/);
  });
});

describe("predict image input", () => {
  function png(width: number, height: number, pixel: (i: number) => [number, number, number, number]): string {
    const p = new PNG({ width, height });
    for (let i = 0; i < width * height; i++) p.data.set(pixel(i), 4 * i);
    const file = path.join(tmp(), "img.png");
    fs.writeFileSync(file, PNG.sync.write(p));
    return file;
  }
  it("reads a 28x28 grayscale PNG as 0..1 without conversions", () => {
    const img = loadImagePng(png(28, 28, (i) => (i === 400 ? [255, 255, 255, 255] : [0, 0, 0, 255])));
    expect(img.conversions).toEqual([]);
    expect(img.pixels[400]).toBe(1);
    expect(img.pixels[0]).toBe(0);
  });
  it("inverts a dark-on-light drawing and says so", () => {
    const img = loadImagePng(png(28, 28, (i) => (i === 400 ? [0, 0, 0, 255] : [255, 255, 255, 255])));
    expect(img.conversions.join()).toMatch(/inverted \(light background/);
    expect(img.pixels[400]).toBe(1);
  });
  it("converts colour to grayscale and says so", () => {
    expect(loadImagePng(png(28, 28, () => [200, 10, 10, 255])).conversions).toContain("converted colour to grayscale");
  });
  it("refuses other sizes with the size it got and expected", () => {
    expect(() => loadImagePng(png(32, 28, () => [0, 0, 0, 255]))).toThrow(/32x28 pixels, expected 28x28 like Fashion-MNIST/);
  });
  it("refuses a file that is not a PNG", () => {
    const f = path.join(tmp(), "x.png");
    fs.writeFileSync(f, "hello");
    expect(() => loadImagePng(f)).toThrow(/x.png: not a PNG \(it does not start with the PNG signature\); expected a 28x28 grayscale PNG$/);
  });
  it("refuses an empty file as empty", () => {
    const f = path.join(tmp(), "x.png");
    fs.writeFileSync(f, "");
    expect(() => loadImagePng(f)).toThrow(/x.png: the file is empty; expected a 28x28 grayscale PNG$/);
  });
  it("names a JPEG renamed .png and how to convert it", () => {
    const f = path.join(tmp(), "x.png");
    fs.writeFileSync(f, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
    expect(() => loadImagePng(f)).toThrow(
      /x.png: a JPEG image, not a PNG; convert it first \(e.g. convert \S+x.png -colorspace Gray -resize 28x28! out.png\)$/,
    );
  });
  it("says a PNG cut short ends early, with its size", () => {
    const whole = fs.readFileSync(png(28, 28, () => [0, 0, 0, 255]));
    const f = path.join(tmp(), "cut.png");
    fs.writeFileSync(f, whole.subarray(0, 40));
    expect(() => loadImagePng(f)).toThrow(
      /cut.png: cannot read as PNG \(the file ends early \(40 bytes\): cut short by a copy or a download\?\)/,
    );
  });
});

describe("the CLI's output read by a pipe that closes early", () => {
  it("`fashion-ann train --help | head -c 1` ends quietly with status 0, not an EPIPE stack trace", () => {
    const root = path.resolve(__dirname, "../..");
    const child = spawnSync(
      "bash",
      ["-c", `set -o pipefail; node -r ./test/load-sources.cjs lib/cli/main.ts train --help | head -c 1 >/dev/null`],
      { cwd: root, encoding: "utf8" },
    );
    expect(child.stderr).not.toMatch(/EPIPE|Error/);
    expect(child.status).toBe(0);
  });
});
