import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { PNG } from "pngjs";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  architectureFigure,
  chromiumPath,
  closeRenderer,
  imageFigure,
  imageGridFigure,
  learningCurvesFigure,
  predictionsFigure,
  renderFigure,
  rendererStats,
  saveFig,
  type Figure,
} from "../../lib/plots";

// Renders the tutorial's figures from the real Fashion-MNIST images with the real Chromium, and shows
// one inline in a real tslab notebook run by nbconvert.

const ROOT = resolve(__dirname, "../..");
const DATASET = "/usr/share/datasets/fashion-mnist"; // Debian's dataset-fashion-mnist package
const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

function readIdx(file: string, magic: number, headerBytes: number, count: number, itemBytes: number): Uint8Array {
  const buf = gunzipSync(readFileSync(join(DATASET, file)));
  expect(buf.readUInt32BE(0), `${file} magic`).toBe(magic);
  return buf.subarray(headerBytes, headerBytes + count * itemBytes);
}

const images = readIdx("train-images-idx3-ubyte.gz", 2051, 16, 40, 784);
const labels = readIdx("train-labels-idx1-ubyte.gz", 2049, 8, 40, 1);
const titles = Array.from(labels, (l) => NAMES[l]);
const imageAt = (i: number): Uint8Array => images.subarray(i * 784, (i + 1) * 784);

const history = {
  loss: [0.72, 0.49, 0.44, 0.41, 0.39],
  accuracy: [0.76, 0.83, 0.85, 0.86, 0.86],
  val_loss: [0.52, 0.46, 0.43, 0.4, 0.39],
  val_accuracy: [0.82, 0.84, 0.85, 0.86, 0.86],
};
const layers = [
  { name: "flatten", type: "Flatten", outputShape: [null, 784], params: 0, inputShape: [null, 28, 28] },
  { name: "dense", type: "Dense", outputShape: [null, 300], params: 235_500 },
  { name: "dense_1", type: "Dense", outputShape: [null, 100], params: 30_100 },
  { name: "dense_2", type: "Dense", outputShape: [null, 10], params: 1_010 },
];
const probabilities = [0, 1, 2].map((i) => NAMES.map((_, k) => (k === labels[i] ? 0.91 : 0.01)));

const figures: Record<string, Figure> = {
  image: imageFigure(imageAt(0), { title: titles[0] }),
  grid: imageGridFigure({ data: images, shape: [40, 28, 28] }, titles),
  curves: learningCurvesFigure(history),
  architecture: architectureFigure(layers),
  predictions: predictionsFigure([imageAt(0), imageAt(1), imageAt(2)], titles.slice(0, 3)),
  predictionsWithBars: predictionsFigure([imageAt(0), imageAt(1), imageAt(2)], titles.slice(0, 3), probabilities),
};

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

/** Variance of the grey level over all pixels: 0 for a blank (single-colour) image. */
function greyVariance(img: PNG): number {
  let sum = 0;
  let sumSq = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const g = (img.data[4 * i] + img.data[4 * i + 1] + img.data[4 * i + 2]) / 3;
    sum += g;
    sumSq += g * g;
  }
  return sumSq / n - (sum / n) ** 2;
}

const tmp = mkdtempSync(join(tmpdir(), "fashion-ann-figures-"));

beforeAll(() => {
  expect(existsSync(chromiumPath()), `Chromium at ${chromiumPath()} (apt-get install chromium)`).toBe(true);
});

afterAll(async () => {
  await closeRenderer();
  rmSync(tmp, { recursive: true, force: true });
});

describe("rendering in the shared headless Chromium", () => {
  const times: string[] = [];
  afterAll(() => console.log(`render times (ms): ${times.join(", ")}`));

  it.each(Object.keys(figures))("renders the %s figure to a non-blank PNG of its layout size", async (kind) => {
    const fig = figures[kind];
    const start = performance.now();
    const img = decode(await renderFigure(fig, { format: "png" }));
    times.push(`${kind} ${Math.round(performance.now() - start)}`);
    expect([img.width, img.height]).toEqual([fig.layout.width, fig.layout.height]);
    expect(greyVariance(img)).toBeGreaterThan(0);
  });

  it("reuses the browser and its page for a second render", async () => {
    await renderFigure(figures.image);
    const before = rendererStats();
    await renderFigure(figures.curves);
    const after = rendererStats();
    expect(after.launches).toBe(before.launches);
    expect(after.pages).toBe(before.pages);
    expect(after.renders).toBe(before.renders + 1);
  });

  it("multiplies the PNG size by scale 2", async () => {
    const img = decode(await renderFigure(figures.curves, { scale: 2 }));
    expect([img.width, img.height]).toEqual([1600, 1000]);
  });

  it("overrides the layout size with width and height", async () => {
    const img = decode(await renderFigure(figures.curves, { width: 400, height: 300 }));
    expect([img.width, img.height]).toEqual([400, 300]);
  });

  it("renders the grid as SVG whose text holds every class-name title", async () => {
    const svg = await renderFigure(figures.grid, { format: "svg" });
    expect(svg).toMatch(/^<svg[^>]+width="1200" height="480"/);
    for (const title of new Set(titles)) expect(svg).toContain(`>${title}</text>`);
  });

  it("renders figures concurrently on the one page", async () => {
    const before = rendererStats().pages;
    const pngs = await Promise.all([figures.image, figures.predictions, figures.architecture].map((f) => renderFigure(f)));
    expect(pngs.map((p) => decode(p).width)).toEqual([400, 720, figures.architecture.layout.width]);
    expect(rendererStats().pages).toBe(before);
  });

  it("relaunches the browser after it was killed", async () => {
    await renderFigure(figures.image);
    const before = rendererStats().launches;
    // Playwright starts Chromium as a direct child of this process.
    const ps = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
    const pids = ps.stdout.split("\n").filter((l) => /chrom/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    const img = decode(await renderFigure(figures.curves));
    expect(img.width).toBe(800);
    expect(rendererStats().launches).toBe(before + 1);
  });

  it("launches a new browser after closeRenderer()", async () => {
    await renderFigure(figures.image);
    const before = rendererStats().launches;
    await closeRenderer();
    expect(rendererStats().running).toBe(false);
    await renderFigure(figures.image);
    expect(rendererStats().launches).toBe(before + 1);
  });
});

describe("saveFig", () => {
  it("writes a PNG at scale 3 (~300 dpi) into a new folder, leaving no temp file", async () => {
    const dir = join(tmp, "images", "ann");
    const file = await saveFig(figures.grid, "fashion_mnist_plot", { dir });
    expect(file).toBe(join(dir, "fashion_mnist_plot.png"));
    const img = decode(readFileSync(file));
    expect([img.width, img.height]).toEqual([3600, 1440]);
    expect(readdirSync(dir)).toEqual(["fashion_mnist_plot.png"]);
  });

  it("writes an SVG file", async () => {
    const file = await saveFig(figures.curves, "curves", { dir: tmp, format: "svg" });
    expect(readFileSync(file, "utf8")).toMatch(/^<svg[\s\S]*val_accuracy/);
  });

  it("writes an HTML file that draws the figure offline", async () => {
    const file = await saveFig(figures.grid, "grid", { dir: tmp, format: "html" });
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const remote: string[] = [];
      await page.route(/^https?:/, (route) => {
        remote.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${file}`);
      await page.waitForSelector(".main-svg");
      expect(await page.locator(".annotation-text").count()).toBe(40);
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe("from the built library (dist/)", () => {
  beforeAll(() => {
    // Notebooks and scripts load dist/, so build it; other modules' type errors don't stop tsc emitting.
    spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json")], { cwd: ROOT });
    expect(existsSync(join(ROOT, "dist/lib/plots/index.js")), "dist/lib/plots/index.js after npm run build").toBe(true);
  });

  it("lets a Node script that rendered a figure exit by itself", () => {
    const script = `
      const p = require(${JSON.stringify(join(ROOT, "dist/lib/plots/index.js"))});
      p.renderFigure(p.imageFigure(new Uint8Array(784).fill(200))).then((png) => console.log("png bytes", png.length));`;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 120_000 });
    expect(run.signal, `stderr: ${run.stderr}`).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/png bytes \d+/);
  });

  it("shows a figure inline as an image/png output in a tslab notebook", () => {
    const dir = mkdtempSync(join(tmp, "nb-"));
    // tslab resolves imports from the notebook's folder; the link makes "fashion-ann" resolve as in notebooks/.
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const cell = (source: string) => ({ cell_type: "code", execution_count: null, id: `c${source.length}`, metadata: {}, outputs: [], source });
    const nb = {
      cells: [
        cell('import { imageGridFigure, showInline } from "fashion-ann";'),
        cell("const px = Array.from({ length: 784 }, (_, i) => (i % 28) * 9);\nawait showInline(imageGridFigure([px, px], [\"Sneaker\", \"Bag\"], 1, 2));"),
      ],
      metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    writeFileSync(join(dir, "inline.ipynb"), JSON.stringify(nb));
    const run = spawnSync(
      "/usr/bin/python3",
      ["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=tslab", "--output", "out.ipynb", "inline.ipynb"],
      { cwd: dir, encoding: "utf8", env: { ...process.env, JUPYTER_PATH: join(ROOT, ".jupyter/share/jupyter") }, timeout: 300_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, "out.ipynb"), "utf8"));
    const outputs: { output_type: string; data?: Record<string, string> }[] = out.cells[1].outputs;
    const pngs = outputs.filter((o) => o.output_type === "display_data" && o.data?.["image/png"]);
    expect(pngs).toHaveLength(1);
    const img = decode(Buffer.from(pngs[0].data!["image/png"], "base64"));
    expect([img.width, img.height]).toEqual([240, 120]);
    expect(greyVariance(img)).toBeGreaterThan(0);
    // The cell's value (showInline resolves to undefined) adds no text output under the image.
    expect(outputs.filter((o) => o.output_type === "execute_result")).toEqual([]);
  });
});
