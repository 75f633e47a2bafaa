/*
 * The render daemon's process: `node render-daemon.js <socket> <lock> <idleMs>`, started detached by the first
 * client that finds no daemon (render-client.ts). It launches Chromium and loads plotly.js at once, before any
 * figure is asked for, then serves every kernel and command of the project until it has been idle for idleMs.
 */
import * as net from "node:net";
import * as path from "node:path";
import { closeRenderer, htmlToPdf, renderImage, rendererStats, setRendererIdleClose, warmRenderer } from "./browser";
import { daemonAddress, supersededSockets } from "./daemon-address";
import { type RenderBackend, startRenderServer } from "./render-server";
import { encodeMessage } from "./wire";

/** The daemon's renderer: the browser module's one Chromium, kept open for as long as the daemon lives. */
export const chromiumBackend: RenderBackend = {
  image: renderImage,
  pdf: async (html, opts) => (await htmlToPdf(html, opts)).toString("base64"),
  counters: () => {
    const { launches, pages, renders } = rendererStats();
    return { launches, pages, renders };
  },
  close: closeRenderer,
};

async function main(argv: string[]): Promise<void> {
  const [socketPath, lock, idle] = argv;
  const idleMs = Number(idle);
  if (!socketPath || !lock || !(idleMs > 0)) {
    console.error("usage: render-daemon.js <socket path> <lock name> <idle ms>");
    process.exitCode = 2;
    return;
  }
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  // The daemon's browser lives as long as the daemon; the daemon's own idle timer decides when both go.
  setRendererIdleClose(Number.POSITIVE_INFINITY);
  const address = { socketPath, lockName: `\0${lock}`, logFile: path.join(path.dirname(socketPath), "render.log") };
  const server = await startRenderServer({ address, backend: chromiumBackend, idleMs, log });
  if (!server) {
    log("another daemon serves this address; leaving it to that one");
    return;
  }
  // Warm: the first figure of the first notebook should not wait for Chromium and plotly.js.
  const t0 = performance.now();
  warmRenderer().then(
    () => log(`Chromium and plotly.js ready in ${Math.round(performance.now() - t0)} ms`),
    (err) => log(`warm-up failed (the next figure retries): ${(err as Error).message}`),
  );
  // Only the current build's daemon retires the others: a daemon started by a kernel still running an older build
  // (its address is not what this build's files hash to) must not stop the current one.
  if (daemonAddress({ dir: path.dirname(socketPath) }).socketPath === socketPath) {
    for (const socket of supersededSockets(address)) askToStop(socket, log);
  }
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.once(signal, () => void server.close());
  await server.closed;
}

/** Sends "stop" to the daemon at `socketPath`, if one listens there; a stale file is left to its own daemon's next start. */
function askToStop(socketPath: string, log: (line: string) => void): void {
  const socket = net.connect(socketPath, () => {
    socket.end(encodeMessage({ id: 1, op: "stop" }));
    log(`asked the superseded daemon at ${socketPath} to stop`);
  });
  socket.on("error", () => undefined);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`render daemon failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  });
}
