import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { TAB10 } from "../../lib/figures/curves";
import { runCli } from "./spawn";

const root = path.resolve(__dirname, "..", "..");

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}
interface Notebook {
  cells: { cell_type: string; source: string | string[]; outputs?: Output[] }[];
}

const text = (o: Output) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")) + JSON.stringify(o.data?.["text/plain"] ?? "");

describe("the notebooks, executed headlessly through the tslab kernel (npm start's path)", () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-nb-")), "run");
  let stdout = "";

  const expected = fs
    .readdirSync(path.join(root, "notebooks"))
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort();

  it("`fashion-ann notebooks --epochs 1` executes every notebook without a cell error", async () => {
    const r = await runCli(["notebooks", "--epochs", "1", "--out", out]);
    stdout = r.stdout;
    expect(r.stderr + r.stdout).not.toMatch(/NotebookError|failed/i);
    expect(r.status).toBe(0);
    expect(expected.length).toBeGreaterThanOrEqual(7);
    expect(stdout).toMatch(new RegExp(`executed ${expected.length} notebooks`));
  });

  const outputs = (name: string): Output[] => {
    const nb = JSON.parse(fs.readFileSync(path.join(out, "notebooks", name), "utf8")) as Notebook;
    return nb.cells.flatMap((c) => c.outputs ?? []);
  };
  const all = (name: string) => outputs(name).map(text).join("\n");

  it("writes executed notebooks with the tutorial's outputs", () => {
    expect(fs.readdirSync(path.join(out, "notebooks")).sort()).toEqual(expected);
    for (const name of fs.readdirSync(path.join(out, "notebooks"))) {
      const errors = outputs(name).filter((o) => o.output_type === "error" || o.name === "stderr");
      expect(errors, name).toEqual([]);
    }
    expect(all("01_load_and_inspect.ipynb")).toMatch(/backend: (native|wasm|tensorflow|cpu)/);
    expect(all("01_load_and_inspect.ipynb")).toMatch(/X_train_full.shape \[60000, 28, 28\]/);
    expect(all("01_load_and_inspect.ipynb")).toMatch(/X_train_full.dtype uint8/);
    expect(all("01_load_and_inspect.ipynb")).toMatch(/"epochs": 1|epochs: 1/);
    expect(all("03_build_model.ipynb")).toMatch(/Total params: 266,610/);
    expect(all("03_build_model.ipynb")).toMatch(/array\(\[\[.*\.\.\..*dtype=float32\)/s);
    // The live view's final state: the epoch lines in one text output, the learning curves (SVG) below it.
    const live = outputs("04_train.ipynb").filter((o) => o.output_type === "display_data");
    const plain = (o: Output) => [o.data?.["text/plain"] ?? ""].flat().join("");
    expect(live.map(plain).join("\n")).toMatch(
      /^Epoch 1\/1\n1719\/1719 \[={30}\] - (\d+s|\d+(:\d\d){1,2}) \d+[mu]?s\/step - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+$/m,
    );
    expect(live.filter((o) => String([o.data?.["image/svg+xml"] ?? ""].flat().join("")).includes("val_accuracy"))).toHaveLength(1);
    expect(all("06_evaluate.ipynb")).toMatch(/test_accuracy/);
    expect(all("07_predict.ipynb")).toMatch(/Ankle boot/);
    // The export cell: the book's my_keras_model.keras, with the optimizer state of notebook 04's training.
    expect(all("07_predict.ipynb")).toMatch(/my_keras_model\.keras.*iterations: 1719/s);
    expect(all("11_optimizers.ipynb")).toMatch(/suggested learning rate: [\d.e-]+/);
    for (const name of ["SGD", "Momentum 0.9", "Nesterov", "RMSprop", "Adam", "Nadam"])
      expect(all("11_optimizers.ipynb")).toMatch(new RegExp(`${name} +best val_accuracy 0\\.[5-9]\\d+ at epoch 1 \\(val_loss`));
    // The hand-built model's own run folder, compared with notebook 04's run.
    expect(all("11_optimizers.ipynb")).toMatch(/║ hand-built +│ custom +│.*│ nadam +│ 0\.001 +║/);
    expect(fs.existsSync(path.join(out, "hand-built", "model.json"))).toBe(true);
  });

  it("shows every figure inline and saves it as PNG", () => {
    const images = (name: string) => outputs(name).filter((o) => o.data?.["image/png"]).length;
    expect(images("02_explore_and_plot.ipynb")).toBe(2);
    expect(images("03_build_model.ipynb")).toBe(1);
    expect(images("05_learning_curves.ipynb")).toBe(1);
    expect(images("07_predict.ipynb")).toBe(1);
    expect(images("11_optimizers.ipynb")).toBe(2);
    const figures = fs.readdirSync(path.join(out, "figures"));
    for (const f of [
      "fashion_mnist_images_plot.png",
      "fashion_mnist_plot.png",
      "first_image.png",
      "keras_learning_curves_plot.png",
      "my_fashion_mnist_model.png",
      "lr_finder.png",
      "optimizers_comparison.png",
    ]) {
      expect(figures).toContain(f);
    }
    // The optimizer comparison really draws the six optimizers: each one's tab10 colour is on the image.
    const png = PNG.sync.read(fs.readFileSync(path.join(out, "figures", "optimizers_comparison.png")));
    // Pixels counted by their 24-bit RGB value (a hex string per pixel took 26 s of a busy run for this 300-dpi PNG).
    const colours = new Map<number, number>();
    for (let i = 0; i < png.data.length; i += 4) {
      const rgb = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
      colours.set(rgb, (colours.get(rgb) ?? 0) + 1);
    }
    for (const colour of TAB10.slice(0, 6)) expect(colours.get(Number.parseInt(colour.slice(1), 16)) ?? 0, colour).toBeGreaterThan(50);
  });

  it("leaves the trained model, history and metrics in the run folder", () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    expect(metrics.test_accuracy).toBeGreaterThan(0.75);
    expect(fs.readFileSync(path.join(out, "history.csv"), "utf8").trim().split("\n")).toHaveLength(2);
    expect(fs.existsSync(path.join(out, "model", "model.json"))).toBe(true);
  });
});
