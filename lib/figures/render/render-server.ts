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

/** One daemon's state: its connections, what is in flight, and the idle timer that stops it. */
class DaemonServer implements RenderServer {
  private readonly sockets = new Set<net.Socket>();
  private readonly counts = { connections: 0, requests: 0 };
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private markClosed: () => void = () => undefined;
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  readonly server = net.createServer((socket) => this.connected(socket));

  constructor(
    private readonly options: RenderServerOptions,
    private readonly lock: net.Server,
  ) {}

  stats(): DaemonStats {
    return {
      pid: process.pid,
      protocol: RENDER_PROTOCOL_VERSION,
      ...this.options.backend.counters(),
      ...this.counts,
      connected: this.sockets.size,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.idleTimer);
      for (const s of this.sockets) s.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await this.options.backend.close().catch(() => undefined);
      await new Promise<void>((resolve) => this.lock.close(() => resolve()));
      this.options.log?.("stopped");
      this.markClosed();
    })();
    return this.closing;
  }

  /** Restarts the idle countdown, unless a request is still being drawn. */
  armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.inFlight === 0) this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs);
  }

  private connected(socket: net.Socket): void {
    this.sockets.add(socket);
    this.counts.connections++;
    const reader = new MessageReader<RenderRequest>();
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      let requests: RenderRequest[];
      try {
        requests = reader.push(chunk);
      } catch {
        socket.destroy(); // not our protocol: nothing sensible to answer
        return;
      }
      for (const request of requests) this.serve(socket, request);
    });
  }

  private serve(socket: net.Socket, request: RenderRequest): void {
    this.inFlight++;
    clearTimeout(this.idleTimer);
    void this.answer(request).then((response) => {
      this.counts.requests++;
      this.inFlight--;
      this.armIdle();
      if (!socket.destroyed) socket.write(encodeMessage(response));
    });
  }

  private async answer(request: RenderRequest): Promise<RenderResponse> {
    const { id } = request;
    const { backend } = this.options;
    try {
      switch (request.op) {
        case "image":
          return { id, ok: true, result: await backend.image(request.fig, request.req) };
        case "pdf":
          return { id, ok: true, result: await backend.pdf(request.html, request.opts) };
        case "stats":
          return { id, ok: true, result: this.stats() };
        case "stop":
          setImmediate(() => void this.close());
          return { id, ok: true, result: null };
        default:
          return { id, ok: false, error: `unknown request ${JSON.stringify((request as { op: unknown }).op)}`, bad: true };
      }
    } catch (err) {
      return { id, ok: false, error: (err as Error).message, bad: err instanceof RenderError };
    }
  }
}

/**
 * Starts serving at `address`, or resolves to undefined when another daemon already serves it (the loser of a
 * race between two starters). Holding the lock proves no live daemon uses the socket path, so whatever file is
 * there is stale and is replaced.
 */
export async function startRenderServer(options: RenderServerOptions): Promise<RenderServer | undefined> {
  const { address } = options;
  const lock = net.createServer((s) => s.destroy());
  if (!(await holdLock(lock, address.lockName))) return undefined;
  fs.rmSync(address.socketPath, { force: true });
  const daemon = new DaemonServer(options, lock);
  await listen(daemon.server, address.socketPath);
  fs.chmodSync(address.socketPath, 0o600);
  options.log?.(`listening on ${address.socketPath} (pid ${process.pid})`);
  daemon.armIdle();
  return daemon;
}
