import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./spawn";

describe("fashion-ann train (real data, real backend)", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-train-"));
  const run = path.join(out, "run");

  it("trains 2 epochs to a sane test accuracy and writes the run folder", async () => {
    const r = await runCli(["train", "--epochs", "2", "--out", run]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const stdout = r.stdout;
    // A busy machine adds why fewer threads run ("1 thread: other processes kept ... busy").
    expect(stdout).toMatch(
      /^backend: (tensorflow|native \(\S+ [\d.]+ \(\w+\), \w+ kernels, \d+ threads?(: .*)?\)|wasm \(SIMD on, \d+ threads?(: .*)?\)|cpu), tfjs 4\.22\.0/m,
    );
    expect(stdout).toMatch(/^Epoch 2\/2$/m);
    expect(stdout).toMatch(/Total params: 266,610/);
    const metrics = JSON.parse(fs.readFileSync(path.join(run, "metrics.json"), "utf8"));
    expect(metrics.test_accuracy).toBeGreaterThan(0.8);
    expect(metrics.test_loss).toBeLessThan(0.6);
    expect(["tensorflow", "native", "wasm", "cpu"]).toContain(metrics.backend);
    expect(fs.readFileSync(path.join(run, "summary.txt"), "utf8")).toMatch(/Total params: 266,610/);
    const csv = fs.readFileSync(path.join(run, "history.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("epoch,loss,accuracy,val_loss,val_accuracy");
    expect(csv).toHaveLength(3);
    for (const f of ["config.json", "environment.json", "history.json", "model/model.json", "model/weights.bin"]) {
      expect(fs.existsSync(path.join(run, f)), f).toBe(true);
    }
    const figures = fs.readdirSync(path.join(run, "figures")).sort();
    expect(figures).toEqual([
      "fashion_mnist_images_plot.png",
      "fashion_mnist_plot.png",
      "first_image.png",
      "keras_learning_curves_plot.png",
      "my_fashion_mnist_model.png",
    ]);
  });

  it("refuses to overwrite the existing run folder, exit code 1, reason on stderr", async () => {
    const r = await runCli(["train", "--epochs", "1", "--out", run]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/run folder .* already exists and is not empty; choose another --out or pass --force/);
  });

  // Every bad flag or value exits 2, whether commander or the config schema refuses it.
  it.each([
    [["--epochs", "0"], /epochs: .*>=1.*got 0/, 2],
    [["--epochs", "three"], /--epochs expects an integer, got "three"/, 2],
    [["--hidden", "300,x"], /--hidden expects comma-separated integers like 300,100, got "300,x"/, 2],
    [["--learning-rate", "-1"], /learningRate: .*>0.*got -1/, 2],
    [["--backend", "gpu"], /Allowed choices are auto, tensorflow, native, wasm, cpu/, 2],
    [["--nope"], /unknown option '--nope'/, 2],
  ])("rejects %j with a message naming it", async (args, message, code) => {
    const r = await runCli(["train", ...args, "--out", path.join(out, "never")]);
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(out, "never"))).toBe(false);
  });
});
