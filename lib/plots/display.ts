import { dirname, join } from "node:path";
import type { Display } from "tslab";
import type { Figure } from "./figure";
import { findTslabJupyterModule, renderFigure, type RenderOptions } from "./render";

export interface ShowInlineOptions extends Pick<RenderOptions, "width" | "height" | "scale"> {
  /** "png" (default) or "svg". */
  format?: "png" | "svg";
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
  if (opts.format === "svg") {
    display.svg(await renderFigure(fig, { ...opts, format: "svg" }));
  } else {
    display.png(await renderFigure(fig, { ...opts, format: "png", scale: opts.scale ?? 1 }));
  }
}

/**
 * Opens the figure in a browser window through nodeplotlib, which starts a local web server and the
 * desktop's browser. Needs a desktop session, and nodeplotlib's page loads plotly.js from a CDN, so
 * offline the window stays blank; use saveFig(fig, name, { format: "html" }) there instead.
 */
export function show(fig: Figure): void {
  // Loaded on demand: nodeplotlib pulls in a NestJS server that plain rendering never needs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { plot } = require("nodeplotlib") as typeof import("nodeplotlib");
  plot(fig.data, fig.layout);
}
