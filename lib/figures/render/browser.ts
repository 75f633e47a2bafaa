/*
 * The one headless Chromium a process renders with: launched on first use, reused, closed when idle outside a
 * notebook, and replaced once if it dies mid-render. Pages never reach the network.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { chromiumExecutable } from "../../config";
import { inTslabKernel } from "../../io/tslab";
import type { Figure } from "../figure";
import { positive, RenderError } from "./render-error";
import type { ImageRequest, PdfOptions, RendererCounters } from "./wire";

export { positive, RenderError } from "./render-error";
export type { PdfOptions } from "./wire";

/** Debian's chromium; FASHION_ANN_CHROMIUM points elsewhere. Playwright must never download its own browser here. */
export function chromiumPath(): string {
  return chromiumExecutable();
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

let plotlySource: string | undefined;
/** The plotly.js bundle's source text (read once). */
export function plotlyJs(): string {
  // The minified bundle is self-contained: pages get it inline so rendering never touches the network.
  plotlySource ??= readFileSync(require.resolve("plotly.js-dist-min/plotly.min.js"), "utf8");
  return plotlySource;
}

interface Renderer {
  browser: Browser;
  page: Promise<Page> | undefined;
  /** A second page for printing PDFs, whose content each job replaces; jobs take turns through `printQueue`. */
  printPage: Promise<Page> | undefined;
  printQueue: Promise<unknown>;
}

let active: Renderer | undefined;
let launching: Promise<Renderer> | undefined;
let inFlight = 0;
let idleTimer: NodeJS.Timeout | undefined;
let idleCloseMs: number | undefined;
const stats = { launches: 0, pages: 0, renders: 0 };

/** How many browsers and pages this process has started and how many images it rendered; tests use it to check reuse. */
export function rendererStats(): RendererCounters & { running: boolean } {
  return { ...stats, running: active !== undefined || launching !== undefined };
}

/**
 * How long the shared browser may sit idle before it is closed. An open browser keeps Node's event loop
 * alive, so scripts close it shortly after their last figure and then exit by themselves; a notebook kernel
 * lives on anyway, so there it stays open and later cells render warm. `undefined` restores that default.
 */
export function setRendererIdleClose(ms: number | undefined): void {
  if (ms !== undefined && !(ms >= 0)) throw new RenderError(`idle close time must be >= 0 ms or undefined, got ${ms}`);
  idleCloseMs = ms;
}

function defaultIdleCloseMs(): number {
  return inTslabKernel() ? Infinity : 2_000;
}

async function launch(): Promise<Renderer> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new RenderError(
      `Chromium not found at ${executablePath}; rendering figures needs it: apt-get install chromium (or set FASHION_ANN_CHROMIUM to a Chromium binary)`,
    );
  }
  const { chromium } = await import("playwright-core");
  // Not Playwright's SIGINT handler: it closes the browser and then exits the process with 130, which kills a
  // notebook kernel on Jupyter's interrupt button once a figure has been drawn. SIGINT belongs to lib/train/interrupt.ts
  // (stop training after the batch; a kernel lives on). The browser still goes when the process exits (Playwright's
  // exit handler) or dies (Chromium ends when its pipe to this process closes).
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, handleSIGINT: false });
  stats.launches++;
  const renderer: Renderer = { browser, page: undefined, printPage: undefined, printQueue: Promise.resolve() };
  browser.on("disconnected", () => {
    // A crashed or closed browser is forgotten, so the next render launches a fresh one.
    if (active === renderer) active = undefined;
  });
  return renderer;
}

function getRenderer(): Promise<Renderer> {
  if (active?.browser.isConnected()) return Promise.resolve(active);
  launching ??= launch()
    .then((r) => (active = r))
    .finally(() => (launching = undefined));
  return launching;
}

async function openPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  stats.pages++;
  // Belt and braces: nothing a figure contains may reach the network (no CDN, no fonts, no map tiles).
  await page.route(/^(https?|wss?|ftp):/, (route) => route.abort());
  await page.setContent("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0'></body></html>");
  await page.addScriptTag({ content: plotlyJs() });
  return page;
}

function getPage(renderer: Renderer): Promise<Page> {
  if (!renderer.page) {
    const p = openPage(renderer.browser);
    renderer.page = p;
    p.then(
      (page) =>
        page.on("crash", () => {
          if (renderer.page === p) renderer.page = undefined;
        }),
      () => {
        if (renderer.page === p) renderer.page = undefined;
      },
    );
  }
  return renderer.page;
}

/**
 * Runs `once` with the idle-close timer held off, and once more on a fresh browser if the browser died under
 * it (crash, OOM kill); afterwards the idle timer starts again when nothing else is rendering.
 */
async function withBrowser<T>(once: () => Promise<T>): Promise<T> {
  clearTimeout(idleTimer);
  inFlight++;
  try {
    try {
      return await once();
    } catch (err) {
      if (!isBrowserGone(err)) throw err;
      await closeRenderer();
      return await once();
    }
  } finally {
    inFlight--;
    scheduleIdleClose();
  }
}

function isBrowserGone(err: unknown): boolean {
  return /Target (page, context or browser )?(has been )?closed|Browser has been closed|crash/i.test(String(err));
}

/**
 * Runs `fn` on the shared image page (plotly.js loaded), counting one render whether or not it succeeds.
 * @internal Kept out of the .d.ts (stripInternal): its playwright `Page` would make every notebook's import cell
 * parse playwright-core's 52,000 lines of types, 30% of all the types tslab reads for `fashion-ann`.
 */
async function withImagePage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  try {
    return await withBrowser(async () => fn(await getPage(await getRenderer())));
  } finally {
    stats.renders++;
  }
}

/** What the image page keeps of the last PNG it drew: plotly's SVG of the figure, which does not depend on the scale. */
interface DrawnSvg {
  key: string;
  svg: string;
  width: number;
  height: number;
}

/** plotly.js's API as the image page calls it: toImage, and the two snapshot steps toImage runs after drawing. */
interface PagePlotly {
  newPlot(div: HTMLElement, data: unknown, layout: unknown, config: unknown): Promise<unknown>;
  purge(div: HTMLElement): void;
  toImage(fig: unknown, opts: unknown): Promise<string>;
  Snapshot: {
    getRedrawFunc(div: HTMLElement): () => unknown;
    getDelay(fullLayout: unknown): number;
    toSVG(div: HTMLElement, format: string, scale: number): string;
    svgToImg(opts: Record<string, unknown>): Promise<string>;
  };
}

/**
 * Draws `fig` on the shared image page: base64 PNG or SVG text. A figure plotly rejects (a trace type it does not
 * know, data that is not an array) is a RenderError of one sentence naming plotly's reason.
 * The figure crosses into the page as one JSON string: Playwright's own argument serialisation walks every value
 * (40 images are 31,000 numbers) and took 0.4-0.5 s of a 40-image grid's render, the string 20 ms.
 * A PNG is plotly's toImage in its two steps: draw the figure and take its SVG, then rasterise that at the scale. The
 * page keeps the last SVG, so a notebook cell's showInline (scale 1) then saveFig (scale 2) of the same figure draws
 * it once: plotly's SVG of a PNG export does not depend on the scale (only an SVG export's size does), so both PNGs
 * are byte for byte toImage's (unit-tested). For the 40-image grid, drawing is half of a render.
 */
export async function renderImage(fig: Figure, req: ImageRequest): Promise<string> {
  try {
    return await withImagePage((page) =>
      page.evaluate(
        async ({ json, req }) => {
          const page = globalThis as unknown as { Plotly: PagePlotly; lastDrawn?: DrawnSvg };
          const Plotly = page.Plotly;
          const fig = (): Figure => JSON.parse(json) as Figure;
          const config = { staticPlot: true };
          if (req.format !== "png") return Plotly.toImage({ ...fig(), config }, { ...req, imageDataOnly: true });
          const key = `${req.width}x${req.height}:${json}`;
          let drawn = page.lastDrawn;
          if (drawn?.key !== key) {
            const { data, layout } = fig();
            const div = document.createElement("div");
            div.style.position = "absolute";
            div.style.left = "-5000px";
            document.body.appendChild(div);
            try {
              await Plotly.newPlot(div, data, { ...layout, width: req.width, height: req.height }, { ...config, _exportedPlot: true });
              await Plotly.Snapshot.getRedrawFunc(div)();
              const full = (div as unknown as { _fullLayout: { width: number; height: number } })._fullLayout;
              await new Promise((resolve) => setTimeout(resolve, Plotly.Snapshot.getDelay(full)));
              drawn = { key, svg: Plotly.Snapshot.toSVG(div, "png", req.scale), width: full.width, height: full.height };
            } finally {
              Plotly.purge(div);
              div.remove();
            }
            page.lastDrawn = drawn;
          }
          const { svg, width, height } = drawn;
          const canvas = document.createElement("canvas");
          const url = await Plotly.Snapshot.svgToImg({ format: "png", width, height, scale: req.scale, canvas, svg, promise: true });
          return url.replace(/^data:image\/\w+;base64,/, "");
        },
        { json: JSON.stringify(fig), req },
      ),
    );
  } catch (err) {
    if (err instanceof RenderError || isBrowserGone(err)) throw err;
    throw new RenderError(`plotly could not draw the figure: ${plotlyReason(err)}`);
  }
}

/** The first line of an evaluate error without Playwright's prefix, e.g. "Cannot read properties of undefined (reading 'map')". */
function plotlyReason(err: unknown): string {
  const line = String((err as Error)?.message ?? err).split("\n")[0] ?? "";
  return line.replace(/^page\.evaluate:\s*/, "").replace(/^(Type|Reference)?Error:\s*/, "") || "unknown error";
}

/** Launches the browser and loads plotly.js into the image page now, so the first figure finds them ready. */
export async function warmRenderer(): Promise<void> {
  await withBrowser(async () => {
    await getPage(await getRenderer());
  });
}

/**
 * Runs `fn` on the shared browser's print page (work that replaces a page's content, such as printing a PDF,
 * must not disturb the page that renders images). One job at a time; the page is kept for the next one,
 * which saves opening a new page per job.
 */
async function withPrintPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const once = async (): Promise<T> => {
    const renderer = await getRenderer();
    if (!renderer.printPage) {
      const p = renderer.browser.newPage().then(async (page) => {
        await page.route(/^(https?|wss?|ftp):/, (route) => route.abort());
        return page;
      });
      renderer.printPage = p;
      p.catch(() => {
        if (renderer.printPage === p) renderer.printPage = undefined;
      });
    }
    const pagePromise = renderer.printPage;
    const job = renderer.printQueue.then(async () => fn(await pagePromise));
    renderer.printQueue = job.catch(() => undefined);
    return job;
  };
  return withBrowser(once);
}

/**
 * Prints an HTML document to PDF with the shared headless Chromium (`page.pdf`): text stays text and SVG stays
 * vector. The document must be self-contained; the page has no network. Used for figure PDFs and run reports.
 */
export async function htmlToPdf(html: string, opts: PdfOptions = {}): Promise<Buffer> {
  const sized = opts.width !== undefined || opts.height !== undefined;
  const margin = opts.margin ?? (sized ? "0" : "15mm");
  return withPrintPage(async (page) => {
    await page.setContent(html, { waitUntil: "load" });
    const pdf = await page.pdf({
      printBackground: true,
      ...(sized
        ? { width: `${positive(opts.width, 700, "width")}px`, height: `${positive(opts.height, 500, "height")}px`, pageRanges: "1" }
        : { format: opts.paper ?? "A4" }),
      margin: { top: margin, right: margin, bottom: margin, left: margin },
    });
    stats.renders++;
    return Buffer.from(pdf);
  });
}

/** Closes the shared browser if one is running; the next render starts a new one. Call it at the end of a script. */
export async function closeRenderer(): Promise<void> {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  await launching?.catch(() => undefined);
  const r = active;
  active = undefined;
  await r?.browser.close().catch(() => undefined); // already dead: nothing left to close
}

function scheduleIdleClose(): void {
  const ms = idleCloseMs ?? defaultIdleCloseMs();
  if (inFlight > 0 || !Number.isFinite(ms)) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void closeRenderer(), ms);
  // The timer itself must not hold the process open; the browser does that until the timer closes it.
  idleTimer.unref();
}
