/*
 * Which renderer this process draws with. By default the project's render daemon (a Chromium with plotly.js
 * loaded, shared by every kernel and command of the project and kept warm between them); in-process Chromium
 * (browser.ts) when FASHION_ANN_RENDERER=inprocess, when this is the TypeScript source run by a test (there is
 * no compiled daemon to start), or, after saying so once, when the daemon cannot be started.
 */
import { rendererMode } from "../../config";
import type { Figure } from "../figure";
import { htmlToPdf as inProcessPdf, renderImage as inProcessImage } from "./browser";
import { daemonAddress } from "./daemon-address";
import { type ClientCounters, DaemonUnavailable, daemonScript, RenderClient, spawnRenderDaemon } from "./render-client";
import type { DaemonStats, ImageRequest, PdfOptions } from "./wire";

/**
 * A daemon stops after this long without a figure. Long enough for a reader to pause on a notebook; a later
 * figure then starts a new one (a few seconds, once).
 */
const RENDER_DAEMON_IDLE_MS = 30 * 60_000;

let client: RenderClient | null | undefined;

/** The daemon client, or undefined when this process renders in-process. Decided once, on first use. */
function daemonClient(): RenderClient | undefined {
  if (client === undefined) {
    client = null;
    const script = daemonScript();
    if (script && rendererMode() === "daemon") {
      try {
        const address = daemonAddress();
        client = new RenderClient({ address, startDaemon: () => void spawnRenderDaemon(script, address, RENDER_DAEMON_IDLE_MS) });
      } catch (err) {
        fallBack(err);
      }
    }
  }
  return client ?? undefined;
}

function fallBack(err: unknown): void {
  client = null;
  console.warn(`figures: ${(err as Error).message}; rendering in this process instead (a Chromium start per process)`);
}

/** Runs `viaDaemon` on the daemon, or `inProcess` where there is none or it fails to start. */
async function either<T>(viaDaemon: (c: RenderClient) => Promise<T>, inProcess: () => Promise<T>): Promise<T> {
  const c = daemonClient();
  if (c) {
    try {
      return await viaDaemon(c);
    } catch (err) {
      if (!(err instanceof DaemonUnavailable)) throw err;
      fallBack(err);
    }
  }
  return inProcess();
}

/** Base64 PNG or SVG text of `fig`, as plotly's toImage returns them. */
export function drawImage(fig: Figure, req: ImageRequest): Promise<string> {
  return either(
    async (c) => (await c.request({ op: "image", fig, req })) as string,
    () => inProcessImage(fig, req),
  );
}

/** An HTML document printed to PDF (see browser.ts `htmlToPdf`). */
export function printPdf(html: string, opts: PdfOptions = {}): Promise<Buffer> {
  return either(
    async (c) => Buffer.from((await c.request({ op: "pdf", html, opts })) as string, "base64"),
    () => inProcessPdf(html, opts),
  );
}

/**
 * Starts the daemon in the background (if it is not running) and connects to it, so that the first figure of a
 * notebook finds Chromium and plotly.js loaded. Never throws and never holds the process open.
 */
export function warmSharedRenderer(): void {
  void daemonClient()?.warm();
}

/**
 * The daemon's counters and this process's use of it; undefined when this process renders in-process.
 * @public for the e2e tests and bench scripts, which load it from dist/ by path.
 */
export async function renderDaemonStats(): Promise<(DaemonStats & { client: ClientCounters }) | undefined> {
  const c = daemonClient();
  if (!c) return undefined;
  return { ...(await c.stats()), client: { ...c.counters } };
}

/** Closes this process's connection to the daemon (the daemon stays up for the next command or kernel). */
export function disconnectSharedRenderer(): void {
  client?.close();
}

/**
 * Stops the project's render daemon if one runs (a measurement's cold start, or freeing its memory now).
 * @public for the bench scripts, which load it from dist/ by path.
 */
export async function stopRenderDaemon(): Promise<boolean> {
  disconnectSharedRenderer();
  return (await daemonClient()?.stopDaemon()) ?? false;
}
