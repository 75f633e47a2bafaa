import { spawn, spawnSync } from "node:child_process";
import { run as runChild } from "./spawn";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { architectureFigure } from "../../lib/figures/architecture";
import { plotlyJs } from "../../lib/figures/render/browser";
import { chromiumPath, closeRenderer, rendererStats, saveFig } from "../../lib/figures/render/chromium";
import { classScoresFigure } from "../../lib/figures/scores";
import { confusionMatrixFigure } from "../../lib/figures/confusion";
import { misclassifiedFigure, selectImages } from "../../lib/figures/misclassified";
import { imageFigure, imageGridFigure } from "../../lib/figures/images";
import { learningCurvesFigure } from "../../lib/figures/curves";
import { predictionsFigure } from "../../lib/figures/predictions";
import { renderFigure } from "../../lib/figures/render/chromium";
import type { Figure } from "../../lib/figures/figure";
import { defined } from "../defined";
import { openBrowser, startJupyter } from "./helpers/jupyter";
import { classificationReport, confusionMatrix, misclassified } from "../../lib/results/metrics";

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
const titles = Array.from(labels, (l) => defined(NAMES[l], `the class name of label ${l}`));
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
// A made-up classifier for the error-analysis figures: right on 3 of 4 images, else the next class, sure of itself.
const guesses = Array.from(labels, (label, i) => NAMES.map((_, k) => (k === (i % 4 === 3 ? (label + 1) % 10 : label) ? 0.82 : 0.02)));
const confusion = confusionMatrix(
  labels,
  guesses.map((row: number[]) => row.indexOf(Math.max(...row))),
  NAMES,
);
const wrong = misclassified(guesses, labels);

const figures = {
  image: imageFigure(imageAt(0), { title: titles[0] }),
  grid: imageGridFigure({ data: images, shape: [40, 28, 28] }, titles),
  curves: learningCurvesFigure(history),
  architecture: architectureFigure(layers),
  predictions: predictionsFigure([imageAt(0), imageAt(1), imageAt(2)], titles.slice(0, 3)),
  predictionsWithBars: predictionsFigure([imageAt(0), imageAt(1), imageAt(2)], titles.slice(0, 3), probabilities),
  curvesShifted: learningCurvesFigure(history, { shiftTraining: true }),
  confusion: confusionMatrixFigure(confusion.counts),
  confusionNormalized: confusionMatrixFigure(confusion.counts, { normalize: "true" }),
  classScores: classScoresFigure(classificationReport(confusion).classes),
  misclassified: misclassifiedFigure(
    selectImages(
      { data: images, shape: [40, 28, 28] },
      wrong.map((w) => w.index),
    ),
    wrong,
  ),
} satisfies Record<string, Figure>;

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

/** Variance of the grey level over all pixels: 0 for a blank (single-colour) image. */
function greyVariance(img: PNG): number {
  let sum = 0;
  let sumSq = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const g = (img.data.readUInt8(4 * i) + img.data.readUInt8(4 * i + 1) + img.data.readUInt8(4 * i + 2)) / 3;
    sum += g;
    sumSq += g * g;
  }
  return sumSq / n - (sum / n) ** 2;
}

const tmp = mkdtempSync(join(tmpdir(), "fashion-ann-figures-"));

beforeAll(() => {
  expect(existsSync(chromiumPath()), `Chromium at ${chromiumPath()} (apt-get install chromium)`).toBe(true);
  // The notebook run two tests read starts now, in the background: its kernel starts and compiles while the
  // Chromium tests run, instead of after them. (Its failure is reported by the tests that await it.)
  inlineNotebookOutputs().catch(() => undefined);
});

afterAll(async () => {
  await closeRenderer();
  rmSync(tmp, { recursive: true, force: true });
});

describe("rendering in the shared headless Chromium", () => {
  const times: string[] = [];
  afterAll(() => console.log(`render times (ms): ${times.join(", ")}`));

  it.each(Object.entries(figures))("renders the %s figure to a non-blank PNG of its layout size", async (kind, fig) => {
    const start = performance.now();
    const img = decode(await renderFigure(fig, { format: "png" }));
    times.push(`${kind} ${Math.round(performance.now() - start)}`);
    expect([img.width, img.height]).toEqual([fig.layout.width, fig.layout.height]);
    expect(greyVariance(img)).toBeGreaterThan(0);
  });

  it.each(Object.entries(figures))("renders the %s figure to SVG of its layout size", async (_kind, fig) => {
    const svg = await renderFigure(fig, { format: "svg" });
    expect(svg).toMatch(new RegExp(`^<svg[^>]+width="${fig.layout.width}" height="${fig.layout.height}"`));
  });

  it("writes every class name and count into the confusion matrix SVG", async () => {
    const svg = await renderFigure(figures.confusion, { format: "svg" });
    for (const name of NAMES) expect(svg).toContain(`>${name}</text>`);
    const diagonal = confusion.counts.map((row, i) => defined(row[i], `confusion count [${i}][${i}]`)).filter((c) => c > 0);
    for (const c of diagonal) expect(svg).toMatch(new RegExp(`>${c}</text>`));
  });

  it("titles the misclassified gallery with predicted and true class names", async () => {
    const svg = await renderFigure(figures.misclassified, { format: "svg" });
    for (const w of wrong) expect(svg).toContain(`true: ${NAMES[w.trueClass]}`);
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

  it("draws PNGs byte for byte as plotly's own toImage at scales 1 and 2, the second from the first's drawing", async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: plotlyJs() });
      const toImage = (fig: Figure, scale: number): Promise<string> =>
        page.evaluate(
          ({ json, scale }) => {
            const { data, layout } = JSON.parse(json) as Figure;
            const Plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
            const size = { width: layout.width, height: layout.height };
            return Plotly.toImage({ data, layout, config: { staticPlot: true } }, { format: "png", ...size, scale, imageDataOnly: true });
          },
          { json: JSON.stringify(fig), scale },
        );
      for (const [name, fig] of Object.entries({ grid: figures.grid, curves: figures.curves, confusion: figures.confusion })) {
        const ours = [await renderFigure(fig, { scale: 1 }), await renderFigure(fig, { scale: 2 })] as Buffer[];
        const plotly = [await toImage(fig, 1), await toImage(fig, 2)].map((b64) => Buffer.from(b64, "base64"));
        expect(ours[0]!.equals(plotly[0]!), `${name} at scale 1`).toBe(true);
        expect(ours[1]!.equals(plotly[1]!), `${name} at scale 2`).toBe(true);
      }
    } finally {
      await browser.close();
    }
  });

  it("relaunches the browser after it was killed", async () => {
    await renderFigure(figures.image);
    const before = rendererStats().launches;
    // Playwright starts Chromium as a direct child of this process.
    const ps = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
    const pids = ps.stdout
      .split("\n")
      .filter((l) => /chrom/.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
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

describe("saveFig to PDF", () => {
  it("writes a one-page vector PDF the size of the figure (CSS px at 96 dpi -> 0.75 pt)", async () => {
    const file = await saveFig(figures.confusion, "confusion", { dir: tmp, format: "pdf" });
    const pdf = readFileSync(file);
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const boxes = pdf.toString("latin1").match(/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g) ?? [];
    expect(boxes).toHaveLength(1);
    const size = /([\d.]+) ([\d.]+)\s*\]$/.exec(defined(boxes[0], "the PDF's MediaBox"));
    const [w, h] = [Number(size?.[1]), Number(size?.[2])];
    // Chromium rounds the paper size to its own units, within a point.
    expect(Math.abs(w - figures.confusion.layout.width! * 0.75)).toBeLessThan(1.5);
    expect(Math.abs(h - figures.confusion.layout.height! * 0.75)).toBeLessThan(1.5);
  });

  it("honours width and height for a PDF", async () => {
    const pdf = await renderFigure(figures.curves, { format: "pdf", width: 400, height: 200 });
    expect(pdf.toString("latin1")).toMatch(/MediaBox\s*\[\s*0 0 300 150(\.\d+)?\s*\]/);
  });
});

/** Executes `file` in `dir` through the project's tslab kernel with nbconvert, writing out.ipynb beside it. */
function executeNotebook(dir: string, file: string) {
  return runChild(
    "/usr/bin/python3",
    [
      "-m",
      "jupyter",
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=tslab",
      "--output",
      "out.ipynb",
      file,
    ],
    { cwd: dir, env: { ...process.env, JUPYTER_PATH: join(ROOT, ".jupyter/share/jupyter") }, timeout: 300_000 },
  );
}

const notebookCell = (id: string, source: string) => ({ cell_type: "code", execution_count: null, id, metadata: {}, outputs: [], source });
const notebook = (cells: ReturnType<typeof notebookCell>[]) => ({
  cells,
  metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 5,
});
/** A folder in which tslab resolves "fashion-ann" as in notebooks/ (it resolves imports from the notebook's folder). */
function notebookFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmp, prefix));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

type Output = { output_type: string; data?: Record<string, string | string[]> };
/** Two interactive figures, a kernel session's first: the nbconvert run and the Notebook page test both show them. */
function htmlFigureCells(): ReturnType<typeof notebookCell>[] {
  return [
    notebookCell(
      "first",
      'await showInline(learningCurvesFigure({ loss: [0.7, 0.5, 0.4], val_loss: [0.6, 0.5, 0.45] }), { format: "html" });',
    ),
    notebookCell(
      "second",
      'await showInline(confusionMatrixFigure([[5, 1], [2, 7]], { classNames: ["Shirt", "Coat"] }), { format: "html" });',
    ),
  ];
}

let inlineRun: Promise<Output[][]> | undefined;
/**
 * One kernel session, run once by nbconvert, for both inline formats (a kernel start costs tens of seconds): two
 * HTML figures, the session's first figures, then a PNG figure. Resolves to each cell's outputs.
 */
function inlineNotebookOutputs(): Promise<Output[][]> {
  inlineRun ??= (async () => {
    const dir = notebookFolder("nb-");
    const nb = notebook([
      notebookCell("imports", 'import { confusionMatrixFigure, imageGridFigure, learningCurvesFigure, showInline } from "fashion-ann";'),
      ...htmlFigureCells(),
      notebookCell(
        "png",
        'const px = Array.from({ length: 784 }, (_, i) => (i % 28) * 9);\nawait showInline(imageGridFigure([px, px], ["Sneaker", "Bag"], 1, 2));',
      ),
    ]);
    writeFileSync(join(dir, "inline.ipynb"), JSON.stringify(nb));
    const run = await executeNotebook(dir, "inline.ipynb");
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, "out.ipynb"), "utf8"));
    return out.cells.map((c: { outputs: Output[] }) => c.outputs);
  })();
  return inlineRun;
}

describe("from the built library (dist/)", () => {
  beforeAll(() => {
    // Notebooks and scripts load dist/ (npm test builds it first).
    expect(existsSync(join(ROOT, "dist/lib/index.js")), "dist/lib/index.js after npm run build").toBe(true);
  });

  it("lets a Node script that rendered a figure exit by itself", async () => {
    const script = `
      const p = { ...require(${JSON.stringify(join(ROOT, "dist/lib/index.js"))}), ...require(${JSON.stringify(join(ROOT, "dist/lib/figures/render/chromium.js"))}) };
      p.renderFigure(p.imageFigure(new Uint8Array(784).fill(200))).then((png) => console.log("png bytes", png.length));`;
    const run = await runChild(process.execPath, ["-e", script], { timeout: 120_000 });
    expect(run.signal, `stderr: ${run.stderr}`).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/png bytes \d+/);
  });

  it("shows a figure inline as an image/png output in a tslab notebook", async () => {
    const outputs = (await inlineNotebookOutputs())[3]!;
    const pngs = outputs.filter((o) => o.output_type === "display_data" && o.data?.["image/png"]);
    expect(pngs).toHaveLength(1);
    const img = decode(Buffer.from(defined(pngs[0]?.data?.["image/png"], "the cell's image/png output") as string, "base64"));
    expect([img.width, img.height]).toEqual([240, 120]);
    expect(greyVariance(img)).toBeGreaterThan(0);
    // The cell's value (showInline resolves to undefined) adds no text output under the image.
    expect(outputs.filter((o) => o.output_type === "execute_result")).toEqual([]);
  });
});

describe("the render daemon, from the built library (dist/)", () => {
  // The children get their own runtime folder, so this daemon is the test's own and not the developer's.
  const runtime = mkdtempSync(join(tmp, "runtime-"));
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, FASHION_ANN_RENDERER: "daemon" };
  const dist = join(ROOT, "dist/lib");
  type Outcome = {
    bytes?: number;
    ms?: number;
    error?: string;
    stats: { pid: number; launches: number; renders: number; client: { starts: number } };
  };

  /** A fresh Node process that renders one figure through the daemon and prints what happened. */
  async function renderInFreshProcess(figure = "p.imageFigure(new Uint8Array(784).fill(200))"): Promise<Outcome> {
    const script = `
      const p = { ...require(${JSON.stringify(join(dist, "index.js"))}), ...require(${JSON.stringify(join(dist, "figures/render/chromium.js"))}) };
      (async () => {
        const out = {};
        const t0 = performance.now();
        try { out.bytes = (await p.renderFigure(${figure})).length; } catch (e) { out.error = e.name + ": " + e.message; }
        out.ms = performance.now() - t0;
        out.stats = await p.renderDaemonStats();
        console.log(JSON.stringify(out));
      })();`;
    const run = await runChild(process.execPath, ["-e", script], { env, timeout: 120_000 });
    // The process exits by itself: its connection to the daemon does not hold it open.
    expect(run.status, `stderr: ${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Outcome;
  }

  const chromiumChildren = (pid: number): number[] =>
    spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((l) => /chrom/.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0]));

  let daemonPid = 0;
  afterAll(() => {
    for (const pid of [daemonPid]) if (pid) spawnSync("kill", [String(pid)]);
  });

  it("is started by the first process that draws and shared by the next, which launches nothing", async () => {
    const first = await renderInFreshProcess();
    expect(first.bytes).toBeGreaterThan(0);
    expect(first.stats.client.starts).toBe(1);
    const second = await renderInFreshProcess();
    daemonPid = second.stats.pid;
    expect(second.stats).toMatchObject({ pid: first.stats.pid, launches: 1, renders: 2, client: { starts: 0 } });
    console.log(`first figure of a fresh process: ${Math.round(first.ms!)} ms with a cold daemon, ${Math.round(second.ms!)} ms warm`);
  });

  it("relaunches its Chromium after the browser was killed", async () => {
    const before = await renderInFreshProcess();
    daemonPid = before.stats.pid;
    const pids = chromiumChildren(daemonPid);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    const after = await renderInFreshProcess();
    expect(after.bytes).toBeGreaterThan(0);
    expect(after.stats).toMatchObject({ pid: daemonPid, launches: before.stats.launches + 1 });
  });

  it("is replaced by the next figure after the daemon was killed", async () => {
    const before = await renderInFreshProcess();
    process.kill(before.stats.pid, "SIGKILL");
    const after = await renderInFreshProcess();
    daemonPid = after.stats.pid;
    expect(after.bytes).toBeGreaterThan(0);
    expect(after.stats.pid).not.toBe(before.stats.pid);
    expect(after.stats.client.starts).toBe(1);
  });

  it("answers a figure plotly cannot draw with one RenderError sentence", async () => {
    const out = await renderInFreshProcess("{ data: [null], layout: {} }");
    expect(out.error).toMatch(/^RenderError: plotly could not draw the figure: Cannot read properties of null \(reading 'type'\)$/);
    // The daemon goes on serving.
    expect(out.stats.pid).toBe(daemonPid);
  });
});

describe("show(fig): nodeplotlib's window, offline", () => {
  it("serves a page that draws the figure without the network, and the script exits once the window closes", async () => {
    const script = `
      const p = require(${JSON.stringify(join(ROOT, "dist/lib/index.js"))});
      p.show(p.confusionMatrixFigure([[5, 1], [2, 7]], { classNames: ["Shirt", "Coat"] })).then((url) => console.log("URL " + url));`;
    // NODEPLOTLIB_PORT=0: any free port, and nodeplotlib does not try to open a desktop browser.
    const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, NODEPLOTLIB_PORT: "0" } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const deadline = Date.now() + 60_000;
      while (!/URL (\S+)/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`show() printed no URL:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = defined(/URL (\S+)/.exec(out)?.[1], "the URL show() printed");
      const page = await browser.newPage();
      const remote: string[] = [];
      await page.route(/^https?:\/\/(?!localhost[:/])/, (route) => {
        remote.push(route.request().url());
        return route.abort();
      });
      await page.goto(url);
      const plot = page.locator(".js-plotly-plot").first();
      await plot.waitFor({ timeout: 30_000 });
      expect(await page.locator(".js-plotly-plot text", { hasText: "Shirt" }).count()).toBeGreaterThan(0);
      expect(greyVariance(decode(await plot.screenshot()))).toBeGreaterThan(0);
      expect(remote).toEqual([]);
      await page.close();
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 30_000))]);
      expect(code, out).toBe(0);
    } finally {
      child.kill();
      await browser.close();
    }
  });
});

describe('showInline(fig, { format: "html" }) in a real notebook', () => {
  const dir = notebookFolder("nb-html-");
  beforeAll(() => {
    const nb = notebook([
      notebookCell("imports", 'import { learningCurvesFigure, confusionMatrixFigure, showInline } from "fashion-ann";'),
      ...htmlFigureCells(),
    ]);
    writeFileSync(join(dir, "html.ipynb"), JSON.stringify(nb));
  });

  it("sends plotly.js once per kernel session and only data with each figure", async () => {
    const cells = await inlineNotebookOutputs();
    const htmlOf = (i: number): string[] =>
      cells[i]!.filter((o) => o.output_type === "display_data").map((o) => [o.data?.["text/html"] ?? ""].flat().join(""));
    const [bundle, first] = htmlOf(1);
    expect(htmlOf(1)).toHaveLength(2);
    expect(defined(bundle, "cell 1's plotly.js output").length).toBeGreaterThan(1_000_000);
    expect(bundle).toContain("window.Plotly");
    expect(defined(first, "cell 1's figure output").length).toBeLessThan(20_000);
    expect(htmlOf(2)).toHaveLength(1);
    const second = defined(htmlOf(2)[0], "cell 2's figure output");
    expect(second.length).toBeLessThan(20_000);
    expect(second).toContain("window.Plotly.newPlot(");
  });

  it("draws both interactive figures in the Jupyter Notebook page", async () => {
    const server = await startJupyter(dir, dir);
    const { browser, page } = await openBrowser(1600);
    try {
      await page.goto(server.notebookUrl("html.ipynb"));
      await page.waitForSelector("#kernel_indicator_icon.kernel_idle_icon", { timeout: 120_000 });
      await page.evaluate(() => (window as any).Jupyter.notebook.set_autosave_interval(0));
      await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
      await page.waitForFunction(() => document.querySelectorAll(".output_subarea .js-plotly-plot").length >= 2, undefined, {
        timeout: 300_000,
      });
      await page.screenshot({ path: join(tmpdir(), "fashion-ann-inline-html.png"), fullPage: true });
      expect(await page.locator(".output_subarea .js-plotly-plot").count()).toBe(2);
      expect(await page.locator(".output_subarea", { hasText: "plotly.js is not loaded" }).count()).toBe(0);
      expect(await page.locator(".output_subarea .js-plotly-plot text", { hasText: "Coat" }).count()).toBeGreaterThan(0);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});
