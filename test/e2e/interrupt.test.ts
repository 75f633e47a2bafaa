// Stopping training for real: Jupyter's interrupt button on a tslab kernel, and SIGTERM to the CLI.
// "Stopped" means the cell (or process) returns, the last completed epoch is checkpointed, and no
// batch runs afterwards: an interrupted `await` alone would leave training going in the background.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { jupyterEnv, SYSTEM_PYTHON } from "../../lib/notebook/execute";
import { ROOT as root, run as runChild, runCli, startTrain } from "./spawn";

const helper = path.join(__dirname, "helpers", "interrupt_kernel.py");

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-interrupt-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CellResult {
  status: string | null;
  idle: boolean;
  output: string;
  /** The cell's live display as last updated, also after the cell returned: its text (fit's bar and epoch lines), and whether it showed an SVG figure. */
  display: { text: string; svg: boolean };
  timed_out: boolean;
}
interface KernelReport {
  setup: CellResult;
  train: CellResult;
  interrupted: boolean;
  alive_after_stop: boolean;
  probe1: CellResult;
  probe2: CellResult;
  probe3: CellResult;
  after: CellResult;
  alive_at_end: boolean;
}

const counters = (cell: CellResult): { batches: number; epochs: number; ended: string } =>
  JSON.parse(/\{"batches".*\}/.exec(cell.output)![0]);
const pidOf = (cell: CellResult): number => Number(/pid=(\d+)/.exec(cell.output)?.[1]);

// Notebook 04 as a reader runs it: startNotebook, compile, and `fit` with its live view, whose learning curves start
// the headless Chromium after the first epoch. The interrupt comes once the curves are on screen, as the reader's did.
describe("Jupyter interrupt on a tslab kernel running notebook 04's fit, live curves on screen", () => {
  let report: KernelReport;
  let runDir: string;

  beforeAll(async () => {
    runDir = path.join(tmp, "kernel-run");
    const cells = {
      setup: [
        `import { startNotebook, loadData, createModel, createOptimizer, fit, checkpointCallback, evaluate } from "fashion-ann";`,
        `const { config, run } = await startNotebook({ epochs: 1000 }, ${JSON.stringify(runDir)});`,
        `const { train, valid } = await loadData(config);`,
        `const model = createModel(config);`,
        `model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: createOptimizer(config), metrics: ["accuracy"] });`,
        `let batches = 0;`,
        `let epochs = 0;`,
        `let ended = "running";`,
        `console.log(\`ready pid=\${process.pid}\`);`,
      ].join("\n"),
      // The notebook-04 cell, plus counters. The marker goes out after 2 whole epochs (and the helper waits for the curves).
      train: [
        `const history = await fit(model, train.x, train.y, {`,
        `  epochs: config.epochs,`,
        `  validationData: [valid.x, valid.y],`,
        `  seed: config.seed,`,
        `  callbacks: [checkpointCallback(model, run.checkpointsDir), {`,
        `    onBatchEnd: () => { batches++; },`,
        `    onEpochEnd: () => { if (++epochs === 2) console.log("TWO_EPOCHS_DONE"); },`,
        `    onTrainEnd: (h) => { ended = \`stopped=\${h.stopped} epochs=\${h.epoch.length}\`; },`,
        `  }],`,
        `});`,
      ].join("\n"),
      // Not `{ batches, epochs }`: tslab does not rewrite shorthand properties naming an earlier cell's variables.
      // It first waits (bounded) for fit() to return: the batch under way when the signal came may still finish.
      probe: [
        `for (let i = 0; i < 300 && ended === "running"; i++) await new Promise((r) => setTimeout(r, 100));`,
        `console.log(JSON.stringify({ batches: batches, epochs: epochs, ended: ended }));`,
      ].join("\n"),
      // What a reader does next: use the trained model, in the same kernel.
      after: [
        `const metrics = evaluate(model, valid, null);`,
        `console.log(\`pid=\${process.pid} val_accuracy=\${metrics.test_accuracy.toFixed(4)}\`);`,
      ].join("\n"),
      marker: "TWO_EPOCHS_DONE",
    };
    const r = await runChild(SYSTEM_PYTHON, [helper, path.join(root, "notebooks"), JSON.stringify(cells)], {
      env: jupyterEnv(root),
      timeout: 15 * 60_000,
    });
    if (r.status !== 0) throw new Error(`interrupt_kernel.py exited ${r.status}:\n${r.stderr}`);
    report = JSON.parse(r.stdout.trim().split("\n").pop()!) as KernelReport;
  });

  it("the training cell ends at once with tslab's interrupt error, and fit() itself ends stopped", () => {
    expect(report.setup.output).toMatch(/ready pid=\d+/);
    expect(report.interrupted).toBe(true);
    // tslab rejects the cell's await on SIGINT; our listener stops the training behind it after its batch.
    expect(report.train.timed_out).toBe(false);
    expect(report.train.status).toBe("error");
    expect(report.train.output).toMatch(
      /^TWO_EPOCHS_DONE\nKeyboardInterrupt: Interrupted asynchronously \(■\); the kernel and its variables are kept$/m,
    );
    expect(report.train.output).not.toMatch(/createExecutor|at \S+ \(/);
    // The learning curves were on screen (Chromium running) when the signal came, as in the reader's kernel.
    expect(report.train.display.svg).toBe(true);
    expect(report.train.display.text).toMatch(/^Training stopped by SIGINT during epoch \d+ \(batch \d+\/1719, discarded\)/m);
    expect(counters(report.probe1).ended).toMatch(/^stopped=true epochs=\d+$/);
  });

  it("the kernel is still alive and runs cells, also after a second interrupt while idle", () => {
    expect(report.alive_after_stop).toBe(true);
    for (const probe of [report.probe1, report.probe2, report.probe3]) {
      expect(probe.status).toBe("ok");
      expect(probe.output).toMatch(/\{"batches":\d+,"epochs":\d+,"ended":"[^"]+"\}/);
    }
    expect(report.alive_at_end).toBe(true);
  });

  it("the same kernel process still holds the data and the trained model: a cell evaluates it", () => {
    expect(report.after.status, report.after.output).toBe("ok");
    expect(pidOf(report.after)).toBe(pidOf(report.setup));
    // Two epochs of the tutorial's model reach about 0.83; an untrained one about 0.1.
    expect(Number(/val_accuracy=([\d.]+)/.exec(report.after.output)![1])).toBeGreaterThan(0.75);
  });

  it("no batch runs after the stop: the counters are the same 3 s and an idle interrupt later", () => {
    const first = counters(report.probe1);
    expect(first.epochs).toBeGreaterThanOrEqual(2);
    expect(first.batches).toBeGreaterThan(first.epochs * 1719 - 1);
    expect(counters(report.probe2)).toEqual(first);
    expect(counters(report.probe3)).toEqual(first);
    // The history fit() returned has the whole epochs only; the one cut short is discarded.
    expect(first.ended).toBe(`stopped=true epochs=${first.epochs}`);
  });

  it("the last whole epoch is checkpointed in the run folder", () => {
    const last = JSON.parse(fs.readFileSync(path.join(runDir, "checkpoints", "last.json"), "utf8")) as { epoch: number; dir: string };
    expect(last.epoch + 1).toBe(counters(report.probe1).epochs);
    expect(fs.existsSync(path.join(runDir, "checkpoints", last.dir, "model.json"))).toBe(true);
  });
});

describe("SIGTERM to fashion-ann train", () => {
  it("stops after the current batch with exit code 143, keeps the checkpoint, and --resume finishes the run", async () => {
    const run = path.join(tmp, "sigterm-run");
    // wasm, not the native engine, whose epochs of this tiny model end before the signal can land mid-run. The
    // signal comes as epoch 3 of 8 starts, six epochs before the end; the rate 0.05 takes this tiny model to 0.80
    // test accuracy in 8 epochs (0.01 took 30, most of them in the resumed run: 90 s of the test's 95 s under load).
    const epochs = 8;
    const t = startTrain([
      "--epochs",
      `${epochs}`,
      "--hidden",
      "8",
      "--batch-size",
      "256",
      "--learning-rate",
      "0.05",
      "--backend",
      "wasm",
      "--out",
      run,
    ]);
    await t.seen(new RegExp(`^Epoch 3/${epochs}$`, "m"));
    t.child.kill("SIGTERM");
    const code = await t.exit;
    expect(code).toBe(143);
    expect(t.err()).toMatch(
      new RegExp(
        `training interrupted by SIGTERM after epoch (\\d+)/${epochs}; checkpoint kept\\. Resume with: fashion-ann train --resume ${run}`,
      ),
    );
    const done = Number(new RegExp(`after epoch (\\d+)/${epochs}`).exec(t.err())![1]);
    expect(done).toBeGreaterThanOrEqual(2);
    const last = JSON.parse(fs.readFileSync(path.join(run, "checkpoints", "last.json"), "utf8")) as { epoch: number; dir: string };
    expect(last.epoch + 1).toBe(done);
    expect(fs.existsSync(path.join(run, "checkpoints", last.dir, "weights.bin"))).toBe(true);
    // Left on disk: no lock, no final model (the run is not finished), no temp files.
    expect(fs.existsSync(path.join(run, ".lock"))).toBe(false);
    expect(fs.existsSync(path.join(run, "model"))).toBe(false);
    expect(fs.readdirSync(run).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    const resumed = await runCli(["train", "--resume", run]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`resuming ${run} after epoch ${done}/${epochs}`));
    expect(fs.readFileSync(path.join(run, "history.csv"), "utf8").trim().split("\n")).toHaveLength(epochs + 1);
    expect(JSON.parse(fs.readFileSync(path.join(run, "metrics.json"), "utf8")).test_accuracy).toBeGreaterThan(0.7);
  });
});
