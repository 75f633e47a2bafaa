import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { loadFashionMnist } from "../../lib/data/fashion-mnist";
import { projectPath } from "../../lib/io/paths";
import { runCli } from "./spawn";

describe('predict on a run trained with normalize "standardize"', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-predict-std-"));
  const run = path.join(tmp, "run");

  it("gives a PNG of test image 0 the same probabilities as --test-index 0 (the training set's mean/std applied to both)", async () => {
    const trained = await runCli([
      "train",
      "--epochs",
      "1",
      "--set",
      "hiddenUnits=[32]",
      "--normalize",
      "standardize",
      // With figures: the tests below check that the run's images are drawn from the pixels, not near-white.
      "--out",
      run,
    ]);
    expect(trained.status, trained.stderr).toBe(0);
    const raw = await loadFashionMnist({ dataDir: projectPath("data") });
    const png = new PNG({ width: 28, height: 28 });
    for (let i = 0; i < 784; i++) {
      const v = raw.testImages.data[i]!;
      png.data.set([v, v, v, 255], 4 * i);
    }
    const file = path.join(tmp, "test0.png");
    fs.writeFileSync(file, PNG.sync.write(png));
    const r = await runCli(["predict", run, file, "--test-index", "0"]);
    expect(r.status, r.stderr).toBe(0);
    const fromPng = r.stdout.match(/test0\.png: (.+?) {2}(\[.+\])/);
    const fromTest = r.stdout.match(/test\[0\]: (.+?) \(true: Ankle boot\) {2}(\[.+\])/);
    expect(fromPng, r.stdout).not.toBeNull();
    expect(fromTest, r.stdout).not.toBeNull();
    expect(fromPng![2]).toBe(fromTest![2]);
    expect(fromPng![1]).toBe(fromTest![1]);
  });

  // Drawn from the standardized values (about -2..4 on the 0..255 colormap) these were almost white: under 1% dark pixels.
  it.each(["fashion_mnist_plot", "fashion_mnist_images_plot"])("draws %s.png from the pixels, not near-white", (name) => {
    const png = PNG.sync.read(fs.readFileSync(path.join(run, "figures", `${name}.png`)));
    let dark = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 128) dark++;
    // From the pixels, they have 15% (grid) and 22% (three images) dark pixels.
    expect(dark / (png.width * png.height)).toBeGreaterThan(0.1);
  });
});
