/*
 * The render daemon's server: it owns the renderer (a headless Chromium with plotly.js loaded, or a fake one in
 * tests) and answers render requests from any number of clients on the project's Unix socket. It wins the
 * election for its address or steps aside, replaces a stale socket file, and stops by itself once nobody has
 * asked for anything for `idleMs`.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import type { Figure } from "../figure";
import type { DaemonAddress } from "./daemon-address";
import { RenderError } from "./render-error";
import {
  type DaemonStats,
  encodeMessage,
  type ImageRequest,
  MessageReader,
  type PdfOptions,
  RENDER_PROTOCOL_VERSION,
  type RendererCounters,
  type RenderRequest,
  type RenderResponse,
} from "./wire";

/** What draws the figures: the daemon's Chromium (browser.ts), or a fake in tests. */
export interface RenderBackend {
  /** Base64 PNG or SVG text; throws RenderError for a figure that cannot be drawn. */
  image(fig: Figure, req: ImageRequest): Promise<string>;
  /** A printed HTML document as base64 PDF bytes. */
  pdf(html: string, opts: PdfOptions): Promise<string>;
  counters(): RendererCounters;
  close(): Promise<void>;
}

export interface RenderServerOptions {
  address: DaemonAddress;
  backend: RenderBackend;
  /** Stop after this long without a request, ms. */
  idleMs: number;
  log?: (line: string) => void;
}

export interface RenderServer {
  stats(): DaemonStats;
  /** Stops listening, drops every connection, closes the backend and frees the address. */
  close(): Promise<void>;
  /** Settles once the server has closed, whoever closed it. */
  readonly closed: Promise<void>;
}

/** Binds the election lock; false when a live daemon of the same address holds it. */
function holdLock(lock: net.Server, name: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    lock.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(false) : reject(err)));
    lock.listen({ path: name }, () => resolve(true));
  });
}

function listen(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Starts serving at `address`, or resolves to undefined when another daemon already serves it (the loser of a
 * race between two starters). Holding the lock proves no live daemon uses the socket path, so whatever file is
 * there is stale and is replaced.
 */
export async function startRenderServer(options: RenderServerOptions): Promise<RenderServer | undefined> {
  const { address, backend, log = () => undefined } = options;
  const lock = net.createServer((s) => s.destroy());
  if (!(await holdLock(lock, address.lockName))) return undefined;
  fs.rmSync(address.socketPath, { force: true });
  const sockets = new Set<net.Socket>();
  const counts = { connections: 0, requests: 0 };
  let inFlight = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(idleTimer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close().catch(() => undefined);
      await new Promise<void>((resolve) => lock.close(() => resolve()));
      log("stopped");
      markClosed();
    })();
    return closing;
  };
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    if (inFlight === 0) idleTimer = setTimeout(() => void close(), options.idleMs);
  };
  const stats = (): DaemonStats => ({
    pid: process.pid,
    protocol: RENDER_PROTOCOL_VERSION,
    ...backend.counters(),
    ...counts,
    connected: sockets.size,
  });

  async function answer(request: RenderRequest): Promise<RenderResponse> {
    const { id } = request;
    try {
      switch (request.op) {
        case "image":
          return { id, ok: true, result: await backend.image(request.fig, request.req) };
        case "pdf":
          return { id, ok: true, result: await backend.pdf(request.html, request.opts) };
        case "stats":
          return { id, ok: true, result: stats() };
        case "stop":
          setImmediate(() => void close());
          return { id, ok: true, result: null };
        default:
          return { id, ok: false, error: `unknown request ${JSON.stringify((request as { op: unknown }).op)}`, bad: true };
      }
    } catch (err) {
      return { id, ok: false, error: (err as Error).message, bad: err instanceof RenderError };
    }
  }

  const server = net.createServer((socket) => {
    sockets.add(socket);
    counts.connections++;
    const reader = new MessageReader<RenderRequest>();
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      let requests: RenderRequest[];
      try {
        requests = reader.push(chunk);
      } catch {
        socket.destroy(); // not our protocol: nothing sensible to answer
        return;
      }
      for (const request of requests) {
        inFlight++;
        clearTimeout(idleTimer);
        void answer(request).then((response) => {
          counts.requests++;
          inFlight--;
          armIdle();
          if (!socket.destroyed) socket.write(encodeMessage(response));
        });
      }
    });
  });
  await listen(server, address.socketPath);
  fs.chmodSync(address.socketPath, 0o600);
  log(`listening on ${address.socketPath} (pid ${process.pid})`);
  armIdle();
  return { stats, close, closed };
}
