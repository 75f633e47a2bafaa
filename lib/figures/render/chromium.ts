import { basename, resolve } from "node:path";
import { escapeForScript, escapeHtml } from "../../format/html";
import { inTslabKernel } from "../../io/tslab";
import { writeFileAtomic } from "../../io/atomic";
import type { Figure } from "../figure";
import { closeRenderer as closeInProcessBrowser, plotlyJs, positive, RenderError } from "./browser";
import { disconnectSharedRenderer, drawImage, printPdf, warmSharedRenderer } from "./shared-renderer";
import type { ImageRequest } from "./wire";

export { chromiumPath, RenderError, rendererStats } from "./browser";
/** @public renderDaemonStats and stopRenderDaemon: for tests and bench scripts that load dist/ by path. */
export { printPdf as htmlToPdf, renderDaemonStats, stopRenderDaemon, warmSharedRenderer as warmRenderer } from "./shared-renderer";

/**
 * Closes what this process renders with: its own Chromium if it launched one, and its connection to the render
 * daemon (which stays up, warm, for the next command or kernel). Call it at the end of a script; the next
 * render reconnects or relaunches.
 */
export async function closeRenderer(): Promise<void> {
  disconnectSharedRenderer();
  await closeInProcessBrowser();
}

// A notebook's first figure should find Chromium and plotly.js loaded: start the daemon while the reader is
// still on the import cell. Outside a kernel, figures start it when they need it.
if (inTslabKernel()) warmSharedRenderer();

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

/** Saved files are for print and slides: scale 3 of a 100-px-per-inch figure ~ the tutorial's dpi=300. */
const SAVE_PNG_SCALE = 3;

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
 * Renders a figure in the project's render daemon (a headless Chromium with plotly.js loaded, shared by every
 * kernel and command and started on first need), or in this process's own Chromium where there is no daemon.
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
  const data = await drawImage(fig, req);
  if (format === "pdf") {
    // The SVG on a page of exactly the figure's size: a vector PDF that LaTeX and slides scale without blur.
    const page = `<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0}svg{display:block}</style></head><body>${data}</body></html>`;
    return printPdf(page, { width: req.width, height: req.height });
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
