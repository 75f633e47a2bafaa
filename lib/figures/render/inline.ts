import { dirname, join } from "node:path";
import type { Display } from "tslab";
import type { Figure } from "../figure";
import { escapeForScript } from "../../format/html";
import { plotlyJs } from "./browser";
import { renderFigure, type RenderOptions } from "./chromium";
import { findTslabJupyterModule } from "../../io/tslab";

export interface ShowInlineOptions extends Pick<RenderOptions, "width" | "height" | "scale"> {
  /**
   * "png" (default), "svg", or "html" for an interactive plotly figure (zoom, hover). The first "html" figure of a
   * kernel session also sends plotly.js (~4.7 MB) once, as its own output; later ones send only their data.
   */
  format?: "png" | "svg" | "html";
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
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
    display.png(await renderFigure(fig, { ...opts, format: "png", scale: opts.scale ?? 1 }));
  }
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

export { show } from "./window";
