import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { writeFileAtomic } from "../../io/atomic";
import type { Figure } from "../figure";
import { inTslabKernel } from "../../io/tslab";
import { chromiumExecutable } from "../../config";

export type RenderFormat = "png" | "svg" | "html" | "pdf";

export interface RenderOptions {
  /** Output kind: PNG bytes, SVG text, a self-contained HTML page (no browser needed), or a one-page vector PDF. Default "png". */
  format?: RenderFormat;
  /** Image width in CSS pixels; default the figure's layout.width (else 700). */
  width?: number;
  /** Image height in CSS pixels; default the figure's layout.height (else 500). */
  height?: number;
  /** PNG pixel density: 1 = one image pixel per CSS pixel. Default 1; `saveFig` uses 3 (~300 dpi, as the tutorial's save_fig). */
  scale?: number;
}

export interface SaveFigOptions extends RenderOptions {
  /** Folder to write into, created if missing; default "figures" (relative to the working directory). */
  dir?: string;
}

/** Thrown when a figure cannot be rendered: no Chromium, a bad option, or plotly rejecting the figure. */
export class RenderError extends Error {
  override name = "RenderError";
}

/** Debian's chromium; FASHION_ANN_CHROMIUM points elsewhere. Playwright must never download its own browser here. */
export function chromiumPath(): string {
  return chromiumExecutable();
}

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Saved files are for print and slides: scale 3 of a 100-px-per-inch figure ~ the tutorial's dpi=300. */
export const SAVE_PNG_SCALE = 3;

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
export function rendererStats(): { launches: number; pages: number; renders: number; running: boolean } {
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
  // Playwright kills this browser itself when the process exits or gets SIGINT/SIGTERM/SIGHUP.
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
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
 * Runs `fn` on the shared browser's print page (work that replaces a page's content, such as printing a PDF,
 * must not disturb the page that renders images). One job at a time; the page is kept for the next one,
 * which saves the ~100 ms of opening a page.
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

export interface PdfOptions {
  /** Paper size such as "A4" or "Letter"; ignored when width and height are given. Default "A4". */
  paper?: "A4" | "A3" | "Letter" | "Legal";
  /** Page width and height in CSS pixels (96 per inch), for a page the size of a figure. */
  width?: number;
  height?: number;
  /** Page margin, CSS length; default "0" for a figure-sized page, "15mm" for paper. */
  margin?: string;
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

interface ImageRequest {
  format: "png" | "svg";
  width: number;
  height: number;
  scale: number;
}

async function toImageOnce(fig: Figure, req: ImageRequest): Promise<string> {
  const page = await getPage(await getRenderer());
  return page.evaluate(
    async ({ fig, req }) => {
      const Plotly = (globalThis as unknown as { Plotly: { toImage: (f: unknown, o: unknown) => Promise<string> } }).Plotly;
      return Plotly.toImage({ data: fig.data, layout: fig.layout, config: { staticPlot: true } }, { ...req, imageDataOnly: true });
    },
    { fig: JSON.parse(JSON.stringify(fig)) as Figure, req },
  );
}

function isBrowserGone(err: unknown): boolean {
  return /Target (page, context or browser )?(has been )?closed|Browser has been closed|crash/i.test(String(err));
}

async function toImage(fig: Figure, req: ImageRequest): Promise<string> {
  clearTimeout(idleTimer);
  inFlight++;
  try {
    try {
      return await toImageOnce(fig, req);
    } catch (err) {
      if (!isBrowserGone(err)) throw err;
      // The browser died under us (crash, OOM kill): start over once with a fresh one.
      await closeRenderer();
      return await toImageOnce(fig, req);
    }
  } finally {
    inFlight--;
    stats.renders++;
    scheduleIdleClose();
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v)) throw new RenderError(`${what} must be a positive number, got ${value}`);
  return v;
}

/** JSON made safe to paste inside an inline <script>. */
export function escapeForScript(json: string): string {
  // "</script>" inside a string would end the inline script early.
  return json
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** A self-contained HTML page (plotly.js inlined, ~4.9 MB) that shows the interactive figure offline. */
export function figureHtml(fig: Figure, opts: Pick<RenderOptions, "width" | "height"> = {}): string {
  const layout = { ...fig.layout, ...(opts.width && { width: opts.width }), ...(opts.height && { height: opts.height }) };
  const title = (fig.layout.title as { text?: string } | undefined)?.text ?? "figure";
  return [
    "<!DOCTYPE html>",
    `<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    `<script>${plotlyJs()}</script></head>`,
    '<body style="margin:0"><div id="figure"></div><script>',
    `Plotly.newPlot("figure", ${escapeForScript(JSON.stringify(fig.data))}, ${escapeForScript(JSON.stringify(layout))}, {displaylogo: false});`,
    "</script></body></html>",
    "",
  ].join("\n");
}

/**
 * Renders a figure in the shared headless Chromium (launched on first use, reused after).
 * PNG and PDF are returned as bytes, SVG and HTML as text. Sizes are CSS pixels; PNG size is width*scale x height*scale.
 */
export function renderFigure(fig: Figure, opts: RenderOptions & { format: "svg" | "html" }): Promise<string>;
export function renderFigure(fig: Figure, opts?: RenderOptions & { format?: "png" | "pdf" }): Promise<Buffer>;
export function renderFigure(fig: Figure, opts?: RenderOptions): Promise<Buffer | string>;
export async function renderFigure(fig: Figure, opts: RenderOptions = {}): Promise<Buffer | string> {
  const format = opts.format ?? "png";
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== "object") {
    throw new RenderError("renderFigure expects a figure { data: [...], layout: {...} }, e.g. from imageGridFigure()");
  }
  if (format === "html") return figureHtml(fig, opts);
  if (format !== "png" && format !== "svg" && format !== "pdf") {
    throw new RenderError(`format must be "png", "svg", "html" or "pdf", got ${JSON.stringify(format)}`);
  }
  const req: ImageRequest = {
    format: format === "pdf" ? "svg" : format,
    width: positive(opts.width, fig.layout.width ?? 700, "width"),
    height: positive(opts.height, fig.layout.height ?? 500, "height"),
    scale: positive(opts.scale, 1, "scale"),
  };
  const data = await toImage(fig, req);
  if (format === "pdf") {
    // The SVG on a page of exactly the figure's size: a vector PDF that LaTeX and slides scale without blur.
    const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0}svg{display:block}</style></head><body>${data}</body></html>`;
    return htmlToPdf(page, { width: req.width, height: req.height });
  }
  return format === "png" ? Buffer.from(data, "base64") : data;
}

/**
 * Renders `fig` and writes it to `<dir>/<name>.<format>` atomically (temp file, then rename), like the
 * tutorial's save_fig. PNGs default to scale 3 (~300 dpi). Returns the absolute path written.
 */
export async function saveFig(fig: Figure, name: string, opts: SaveFigOptions = {}): Promise<string> {
  const format = opts.format ?? "png";
  if (!name || basename(name) !== name || name === "." || name === "..") {
    throw new RenderError(
      `figure name must be a plain file name without folders, got ${JSON.stringify(name)}; use opts.dir for the folder`,
    );
  }
  const file = resolve(opts.dir ?? "figures", name.endsWith(`.${format}`) ? name : `${name}.${format}`);
  const content = await renderFigure(fig, { ...opts, format, scale: opts.scale ?? (format === "png" ? SAVE_PNG_SCALE : 1) });
  writeFileAtomic(file, content);
  return file;
}
