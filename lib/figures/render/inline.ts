import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { Display } from "tslab";
import type { Figure } from "../figure";
import { escapeForScript } from "../../format/html";
import { plotlyJs } from "./browser";
import { renderFigure, type RenderOptions } from "./chromium";
import { findTslabJupyterModule } from "../../io/tslab";
import { UserError } from "../../errors/user-error";

export interface ShowInlineOptions extends Pick<RenderOptions, "width" | "height" | "scale"> {
  /**
   * "png" (default): a static PNG that every front end, GitHub and nbconvert show, plus the figure's plotly JSON
   * for front ends that draw it interactively (see `interactive`). "svg": a static SVG only. "html": an
   * interactive figure drawn by plotly.js in the page (for Notebook 6, which has no plotly renderer); the first one
   * of a kernel session also sends plotly.js (~4.7 MB) once, as its own output; later ones send only their data.
   */
  format?: "png" | "svg" | "html";
  /**
   * With "png": also offer the figure as `application/vnd.plotly.v1+json` (hover values, zoom), which JupyterLab 4
   * and Notebook 7 draw with plotly's own renderer (the `plotly` wheel in .venv) while the notebook is open.
   * Default true; figures whose JSON is over INTERACTIVE_JSON_LIMIT bytes stay PNG only, to keep notebooks small.
   */
  interactive?: boolean;
  /** With "html": send plotly.js again, e.g. after clearing the output that carried it. Default: only the first time. */
  includePlotly?: boolean;
}

/**
 * tslab's display API from the kernel that is running this process. It is looked up through the module
 * cache rather than `require("tslab")` so that library code in dist/ talks to the kernel's own instance,
 * even if node_modules resolution from here would find another copy of tslab.
 */
function kernelDisplay(): Display | undefined {
  const jupyterModule = findTslabJupyterModule();
  if (!jupyterModule) return undefined;
  return (require(join(dirname(jupyterModule), "public.js")) as typeof import("tslab")).display;
}

let warnedOutsideNotebook = false;

/**
 * Shows the figure as an image in the current tslab notebook cell; outside a notebook it shows
 * nothing and says so once on stderr (`inTslabKernel()` tells which). `await` it: tslab attaches the
 * output to the cell that is running when the image is ready. Resolves to nothing so that a cell
 * ending in `await showInline(fig)` prints no value under the image.
 * PNG scale defaults to 1 because tslab sends no size hint, so Jupyter shows a PNG at its pixel size;
 * scale 2 doubles the figure on screen.
 */
export async function showInline(fig: Figure, opts: ShowInlineOptions = {}): Promise<void> {
  const display = kernelDisplay();
  if (!display) {
    if (!warnedOutsideNotebook) {
      warnedOutsideNotebook = true;
      console.warn("showInline: not running in a tslab notebook, nothing shown; use saveFig() for files or show() for a window");
    }
    return;
  }
  if (opts.format === "html") {
    if (!plotlySent || opts.includePlotly) {
      display.html(plotlyBundleHtml());
      plotlySent = true;
    }
    display.html(inlineFigureHtml(fig, opts));
  } else if (opts.format === "svg") {
    display.svg(await renderFigure(fig, { ...opts, format: "svg" }));
  } else {
    await showPngAndPlotly(fig, opts, () => renderFigure(fig, { ...opts, format: "png", scale: opts.scale ?? 1 }));
  }
}

/** Plotly's own mimetype: the renderer that ships prebuilt in the plotly wheel draws it in JupyterLab 4 and Notebook 7. */
export const PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json";

/**
 * Above this many bytes of figure JSON the interactive copy is left out: image grids (08's 24 misclassified images are
 * 90 KB of pixel values) would make the saved notebook much larger, for hover values (pixel intensities) that say
 * little. Curves (3 KB for 30 epochs), the confusion matrix (2.4 KB) and 07's three predictions (26 KB) stay below it.
 */
export const INTERACTIVE_JSON_LIMIT = 50_000;

/**
 * How long a figure waits for its PNG before it shows the plotly JSON alone. A warm renderer answers in 0.1-0.3 s;
 * a cold one (its Chromium starting) takes seconds, which the figure must not wait for.
 */
export const PNG_FIRST_WAIT_MS = 400;

/**
 * One output holding the figure twice: the PNG, which every front end shows (Notebook 6, nbclient, nbconvert and
 * GitHub included), and plotly's JSON, which JupyterLab 4 and Notebook 7 draw as a live graph.
 * When the PNG is ready within PNG_FIRST_WAIT_MS, both go out together: plotly's renderer then shows the PNG at once
 * and draws the graph when the pointer enters it (its behaviour for any bundle holding a PNG, as for a reopened
 * notebook). Drawing the graph straight away instead made the first figure of a JupyterLab page wait about 0.8 s for
 * the page to evaluate plotly.js (4.8 MB). When the PNG is late, the JSON goes first, alone, so the page draws the
 * graph while Chromium works, and the display is updated to add the PNG: the order matters, since a graph already
 * drawn is kept on that update, whereas a PNG present at the first render is shown instead of the graph.
 * Exported for its unit test, which passes a renderer of its own; notebooks call showInline.
 */
export async function showPngAndPlotly(fig: Figure, opts: ShowInlineOptions, renderPng: () => Promise<Buffer>): Promise<void> {
  const plotly = opts.interactive === false ? undefined : plotlyMimeBundle(fig, opts);
  const label = { "text/plain": `<Figure: ${figureTitle(fig)}>` };
  const output = newBundleDisplay();
  const rendering = renderPng();
  let png: Buffer | undefined;
  try {
    png = plotly ? await within(rendering, PNG_FIRST_WAIT_MS) : await rendering;
    if (!png) {
      output.show({ ...label, [PLOTLY_MIMETYPE]: plotly });
      png = await rendering;
    }
  } catch (err) {
    if (plotly) output.show({ "text/plain": `(figure not rendered: ${(err as Error).message})` });
    throw err;
  }
  output.show({ ...label, ...(plotly && { [PLOTLY_MIMETYPE]: plotly }), "image/png": png.toString("base64") });
}

/** `promise`'s value if it settles within `ms`, else undefined (its rejection within `ms` is thrown). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const stop = new AbortController();
  const late = delay(ms, undefined, { signal: stop.signal }).catch(() => undefined);
  try {
    return await Promise.race([promise, late]);
  } finally {
    stop.abort();
  }
}

/**
 * The figure as plotly's renderer expects it (data, layout, config), or undefined when it is too large to keep.
 * Without a width asked for, the graph takes its output area's width, as plotly's own figures do in JupyterLab: the
 * figures' matplotlib-like widths (900 px for 08's ten class scores) are wider than a notebook beside the file
 * browser, and a plotly graph, unlike the PNG, is not scaled down to fit, so its right side was cut off.
 */
export function plotlyMimeBundle(fig: Figure, opts: Pick<RenderOptions, "width" | "height"> = {}): object | undefined {
  const { width: _fixed, ...fitted } = fig.layout ?? {};
  const layout = { ...fitted, autosize: true, ...(opts.width && { width: opts.width }), ...(opts.height && { height: opts.height }) };
  const json = JSON.stringify({ data: fig.data, layout, config: { displaylogo: false } }, roundForHover);
  return json.length <= INTERACTIVE_JSON_LIMIT ? JSON.parse(json) : undefined;
}

/**
 * Six significant digits, plenty for hover values and far beyond what a plot can show: the float32 noise of
 * tensor data (0.027450980618596077 for 7/255) would otherwise more than double the JSON of an image figure.
 */
function roundForHover(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

function figureTitle(fig: Figure): string {
  const title = (fig.layout as { title?: string | { text?: string } } | undefined)?.title;
  return (typeof title === "string" ? title : title?.text) || "plotly figure";
}

/**
 * A display whose every `show` replaces the whole bundle of mimetypes it showed before. tslab's `Display.raw` sends one
 * mimetype per message, so a multi-mimetype bundle goes through the kernel's own `lastWriteDisplayData` (the function
 * `raw` calls, which sends a display_data, or an update_display_data for a display id already shown).
 */
function newBundleDisplay(): { show(data: Record<string, unknown>): void } {
  const jupyterModule = findTslabJupyterModule();
  if (!jupyterModule) throw new UserError("showInline: no tslab kernel in this process");
  const jupyter = require(jupyterModule) as typeof import("tslab/dist/jupyter");
  const displayId = randomBytes(8).toString("hex");
  let shown = false;
  return {
    show(data) {
      if (!jupyter.lastWriteDisplayData) throw new UserError("showInline: the tslab kernel is not ready to display output");
      jupyter.lastWriteDisplayData({ data, metadata: {}, transient: { display_id: displayId } } as never, shown);
      shown = true;
    },
  };
}

let plotlySent = false;
let figureCount = 0;

/**
 * plotly.js as one notebook output. Outputs are re-rendered in order when a saved notebook is opened, so this one
 * runs before the figures below it that need window.Plotly. The guard skips it when the page has plotly already.
 */
function plotlyBundleHtml(): string {
  return `<script type="text/javascript">if (!window.Plotly) {\n${plotlyJs()}\n}</script>`;
}

/** A div and a script that draws the figure with the page's plotly.js, or says how to get it if it is missing. */
export function inlineFigureHtml(fig: Figure, opts: Pick<RenderOptions, "width" | "height"> = {}): string {
  const id = `fashion-ann-figure-${process.pid}-${++figureCount}-${Date.now().toString(36)}`;
  const layout = { ...fig.layout, ...(opts.width && { width: opts.width }), ...(opts.height && { height: opts.height }) };
  const missing =
    "plotly.js is not loaded on this page: run the cell again with showInline(fig, { format: &quot;html&quot;, includePlotly: true })";
  return [
    `<div id="${id}" style="width:${layout.width ?? 700}px;height:${layout.height ?? 500}px"></div>`,
    '<script type="text/javascript">(function () {',
    `  var el = document.getElementById("${id}");`,
    `  if (!window.Plotly) { el.style.height = "auto"; el.innerHTML = "${missing}"; return; }`,
    `  window.Plotly.newPlot(el, ${escapeForScript(JSON.stringify(fig.data))}, ${escapeForScript(JSON.stringify(layout))}, { displaylogo: false });`,
    "})();</script>",
  ].join("\n");
}
