// nodeplotlib's window, made to work offline. Its page (a prebuilt Angular app served by a NestJS server) loads
// plotly.js from cdn.plot.ly and fonts from fonts.gstatic.com, so without a network the window stays blank.
// nodeplotlib creates its server with `NestFactory.create(ServerModule)`; wrapping that one call lets us put a
// middleware in front of its static files that serves an index.html pointing at the plotly.js bundled in
// node_modules/plotly.js-dist-min, and that bundle itself. Nothing else in nodeplotlib changes: it still opens
// the desktop browser, streams the figures over socket.io, and shuts its server down when the last window closes,
// which lets a script exit.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { RenderError } from "./chromium";

/** Where the offline page fetches plotly.js from nodeplotlib's own server. */
export const WINDOW_PLOTLY_ROUTE = "/fashion-ann/plotly.min.js";
/** And the Material Icons font of its toolbar (from @fontsource/material-icons), which it would take from Google. */
export const WINDOW_ICONS_ROUTE = "/fashion-ann/material-icons.woff2";

interface NestAppLike {
  use(handler: (req: { method: string; path: string }, res: ExpressResLike, next: () => void) => void): unknown;
  getHttpServer(): Server;
}
interface ExpressResLike {
  type(t: string): ExpressResLike;
  send(body: string): void;
  sendFile(file: string): void;
}

/**
 * nodeplotlib's index.html without network requests: the CDN plotly script is replaced by the local bundle
 * (loaded first, blocking, so plotly exists before the app's deferred modules run), remote fonts and
 * preconnects are dropped (the page falls back to local fonts), and the toolbar's Material Icons font is served
 * locally, so its icons show as icons rather than as their ligature names ("zoom_in").
 */
export function offlineIndexHtml(original: string): string {
  const withoutRemote = original
    .replace(/<script\b[^>]*\bsrc="https?:\/\/[^"]*"[^>]*>\s*<\/script>/g, "")
    .replace(/<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>/g, "")
    .replace(/@font-face\s*\{[^}]*url\(https?:[^}]*\}/g, "");
  if (!/<\/head>/i.test(withoutRemote))
    throw new RenderError("nodeplotlib's index.html has no </head>; this nodeplotlib version is not supported by show()");
  const icons = `<style>@font-face{font-family:'Material Icons';font-style:normal;font-weight:400;src:url(${WINDOW_ICONS_ROUTE}) format('woff2');}</style>`;
  return withoutRemote.replace(/<\/head>/i, `${icons}<script src="${WINDOW_PLOTLY_ROUTE}"></script></head>`);
}

let installed = false;
let currentUrl: string | undefined;
let waiting: ((url: string) => void)[] = [];

function announce(server: Server): void {
  const port = (server.address() as AddressInfo).port;
  currentUrl = `http://localhost:${port}`;
  server.once("close", () => (currentUrl = undefined));
  for (const resolve of waiting) resolve(currentUrl);
  waiting = [];
}

/** Wraps NestFactory.create (as nodeplotlib resolves it) once, for nodeplotlib's ServerModule only. */
function installOfflinePage(): void {
  if (installed) return;
  const nplDir = dirname(require.resolve("nodeplotlib/package.json"));
  const libDir = join(nplDir, "src", "lib");
  const core = require(require.resolve("@nestjs/core", { paths: [libDir] })) as {
    NestFactory: { create: (module: unknown, ...rest: unknown[]) => Promise<NestAppLike> };
  };
  const { ServerModule } = require(join(libDir, "server", "server.module.js")) as { ServerModule: unknown };
  const index = offlineIndexHtml(readFileSync(join(libDir, "server", "web", "index.html"), "utf8"));
  const plotlyFile = require.resolve("plotly.js-dist-min/plotly.min.js");
  const iconsFile = require.resolve("@fontsource/material-icons/files/material-icons-latin-400-normal.woff2");
  const factory = core.NestFactory;
  const create = factory.create.bind(factory);
  factory.create = async (module: unknown, ...rest: unknown[]): Promise<NestAppLike> => {
    if (module !== ServerModule) return create(module, ...rest);
    // Nest's startup log lines are noise next to nodeplotlib's own "Server running at" line.
    const app = await create(module, ...(rest.length > 0 ? rest : [{ logger: ["error", "warn"] }]));
    // Registered before listen(), so it sits in front of nodeplotlib's static files and index fallback.
    app.use((req, res, next) => {
      if (req.method !== "GET") return next();
      if (req.path === WINDOW_PLOTLY_ROUTE) return res.type("application/javascript").sendFile(plotlyFile);
      if (req.path === WINDOW_ICONS_ROUTE) return res.type("font/woff2").sendFile(iconsFile);
      if (req.path === "/" || req.path === "/index.html") return res.type("html").send(index);
      return next();
    });
    app.getHttpServer().once("listening", function (this: Server) {
      announce(this);
    });
    return app;
  };
  installed = true;
}

function hasDesktop(): boolean {
  // biome-ignore lint/style/noProcessEnv: the desktop's own variables, not settings of this project
  return process.platform !== "linux" || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/**
 * Opens the figure in a browser window through nodeplotlib (`plot(data, layout)`), offline: plotly.js comes
 * from this project's node_modules, not from a CDN. nodeplotlib serves the page on localhost and opens the
 * desktop's browser; several show() calls add figures to the same page. When the last window is closed the
 * server stops, so a script that called show() exits by itself. Resolves to the page's address once the
 * server listens (NODEPLOTLIB_PORT picks the port and stops nodeplotlib from opening a browser).
 */
export function show(fig: { data: unknown[]; layout: unknown }): Promise<string> {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== "object") {
    throw new RenderError("show expects a figure { data: [...], layout: {...} }, e.g. from learningCurvesFigure()");
  }
  installOfflinePage();
  const url = currentUrl ? Promise.resolve(currentUrl) : new Promise<string>((resolve) => waiting.push(resolve));
  // Loaded on demand: nodeplotlib starts a NestJS server that the other ways of showing a figure never need.
  const { plot } = require("nodeplotlib") as typeof import("nodeplotlib");
  // nodeplotlib draws each figure in a card with autosize on; a fixed width would overflow the card, so the
  // window's figure takes the card's width and keeps its designed height.
  const { width: _width, ...layout } = fig.layout as Record<string, unknown>;
  plot(fig.data as Parameters<typeof plot>[0], layout as Parameters<typeof plot>[1], { displaylogo: false });
  // biome-ignore lint/style/noProcessEnv: nodeplotlib's own variable, which nodeplotlib reads itself
  if (!hasDesktop() && !process.env.NODEPLOTLIB_PORT) {
    void url.then((u) =>
      console.warn(
        `show: no desktop session (DISPLAY is unset), so no window opened; open ${u} in a browser, or use saveFig(fig, name, { format: "html" })`,
      ),
    );
  }
  return url;
}
