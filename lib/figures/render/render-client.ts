/*
 * The client side of the render daemon: one connection per process, many requests in flight on it, started
 * daemon when there is none. It loads no browser code, so a kernel or command that draws pays for a socket,
 * not for Playwright and Chromium.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { DaemonAddress } from "./daemon-address";
import { RenderError } from "./render-error";
import { type DaemonStats, encodeMessage, MessageReader, type RenderRequest, type RenderResponse, type RequestBody } from "./wire";
import { UserError } from "../../errors/user-error";

/** The daemon could not be reached or started: the caller may render in its own process instead. */
export class DaemonUnavailable extends UserError {
  override name = "DaemonUnavailable";
}

/** The connection dropped with the request unanswered (the daemon died or idled out): worth one retry. */
class ConnectionLost extends Error {}

export interface RenderClientOptions {
  address: DaemonAddress;
  /** Starts a daemon for `address` in the background; called when nothing answers there. */
  startDaemon: () => Promise<unknown> | undefined;
  /** How long to wait for a started daemon to listen, ms; default 15000 (node start under load). */
  startTimeoutMs?: number;
}

/** What this process did with the daemon, for tests and measurements. */
export interface ClientCounters {
  /** Requests sent (retries included). */
  requests: number;
  /** Daemons this process started, because nothing answered at the address. */
  starts: number;
  /** Connections opened. */
  connects: number;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** One open connection; rejects every pending request with ConnectionLost when it closes. */
class Connection {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  closed = false;

  constructor(private readonly socket: net.Socket) {
    const reader = new MessageReader<RenderResponse>();
    socket.on("data", (chunk) => {
      let responses: RenderResponse[];
      try {
        responses = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const r of responses) this.settle(r);
    });
    socket.on("error", () => undefined); // "close" follows and says what matters
    socket.on("close", () => {
      this.closed = true;
      for (const p of this.pending.values()) p.reject(new ConnectionLost("the render daemon closed the connection"));
      this.pending.clear();
    });
    // Between requests the connection must not keep a script alive.
    socket.unref();
  }

  private settle(r: RenderResponse): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.socket.unref();
    if (r.ok) p.resolve(r.result);
    // A daemon that answers is working: its failure with this figure (even a Chromium that crashed twice) is this
    // figure's error, not a reason for the process to give up on the daemon.
    else p.reject(new RenderError(r.bad ? r.error : `the render daemon could not draw the figure: ${r.error}`));
  }

  send(body: RequestBody): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectionLost("the render daemon's connection is closed"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.ref();
      this.socket.write(encodeMessage({ id, ...body } as RenderRequest));
    });
  }

  close(): void {
    this.socket.end();
    this.socket.unref();
  }
}

function dial(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** No daemon there: no socket file, or a stale one that nobody listens on. */
function nobodyListens(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ECONNREFUSED";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RenderClient {
  readonly counters: ClientCounters = { requests: 0, starts: 0, connects: 0 };
  private connection: Promise<Connection> | undefined;

  constructor(private readonly options: RenderClientOptions) {}

  /** Sends one request; a connection lost on the way (a killed daemon) is retried once on a fresh daemon. */
  async request(body: RequestBody): Promise<unknown> {
    try {
      return await this.sendOnce(body);
    } catch (err) {
      if (!(err instanceof ConnectionLost)) throw err;
      return this.sendOnce(body);
    }
  }

  private async sendOnce(body: RequestBody): Promise<unknown> {
    const connection = await this.connect();
    this.counters.requests++;
    return connection.send(body);
  }

  /** Connects (starting a daemon if none answers) without sending anything, so the first figure finds it warm. */
  warm(): Promise<void> {
    return this.connect().then(
      () => undefined,
      () => undefined, // the first figure will say why
    );
  }

  /** The daemon's counters. */
  async stats(): Promise<DaemonStats> {
    return (await this.request({ op: "stats" })) as DaemonStats;
  }

  /** Asks a running daemon to stop (it finishes nothing new); false when none was running. Starts none. */
  async stopDaemon(): Promise<boolean> {
    let socket: net.Socket;
    try {
      socket = await dial(this.options.address.socketPath);
    } catch (err) {
      if (nobodyListens(err)) return false;
      throw err;
    }
    const connection = new Connection(socket);
    await connection.send({ op: "stop" }).catch(() => undefined);
    connection.close();
    return true;
  }

  /** Closes this process's connection; the daemon stays up for other processes and later figures. */
  close(): void {
    const c = this.connection;
    this.connection = undefined;
    void c?.then(
      (conn) => conn.close(),
      () => undefined,
    );
  }

  private connect(): Promise<Connection> {
    const current = this.connection;
    if (current) {
      return current.then(
        (c) => (c.closed ? this.reconnect(current) : c),
        () => this.reconnect(current),
      );
    }
    return this.reconnect(undefined);
  }

  private reconnect(stale: Promise<Connection> | undefined): Promise<Connection> {
    if (this.connection === stale) {
      const fresh = this.open().then((socket) => new Connection(socket));
      this.connection = fresh;
      fresh.catch(() => {
        if (this.connection === fresh) this.connection = undefined;
      });
    }
    return this.connection!;
  }

  private async open(): Promise<net.Socket> {
    const { socketPath } = this.options.address;
    try {
      return this.connected(await dial(socketPath));
    } catch (err) {
      if (!nobodyListens(err))
        throw new DaemonUnavailable(`cannot connect to the render daemon at ${socketPath}: ${(err as Error).message}`);
    }
    this.counters.starts++;
    await this.options.startDaemon();
    const deadline = performance.now() + (this.options.startTimeoutMs ?? 15_000);
    for (let delay = 10; ; delay = Math.min(2 * delay, 200)) {
      try {
        return this.connected(await dial(socketPath));
      } catch (err) {
        if (!nobodyListens(err) || performance.now() > deadline) {
          throw new DaemonUnavailable(`the render daemon did not start listening at ${socketPath}: ${(err as Error).message}`);
        }
      }
      await sleep(delay);
    }
  }

  private connected(socket: net.Socket): net.Socket {
    this.counters.connects++;
    return socket;
  }
}

/** The compiled daemon entry point next to this module, if this is the compiled library (not TypeScript run by a test). */
export function daemonScript(): string | undefined {
  const script = path.join(__dirname, "render-daemon.js");
  return fs.existsSync(script) ? script : undefined;
}

/**
 * Starts `node render-daemon.js` detached from this process (its own process group, so Jupyter's interrupt or
 * a Ctrl-C of a command does not reach it) and lets this process exit without it. Its output goes to its log.
 */
export function spawnRenderDaemon(script: string, address: DaemonAddress, idleMs: number): void {
  const log = fs.openSync(address.logFile, "a", 0o600);
  try {
    const child = spawn(process.execPath, [script, address.socketPath, address.lockName.slice(1), String(idleMs)], {
      detached: true,
      stdio: ["ignore", log, log],
      cwd: path.dirname(script),
    });
    child.on("error", () => undefined); // the client's connect timeout reports it
    child.unref();
  } finally {
    fs.closeSync(log);
  }
}
