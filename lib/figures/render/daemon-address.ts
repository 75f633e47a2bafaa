/*
 * Where the render daemon of this project listens. One daemon serves every kernel and command of one project
 * build: the socket's name is a hash of the project root, the wire protocol, the daemon's own compiled files and
 * the Chromium it runs, so a rebuilt library or another checkout never talks to a daemon running older code.
 * The socket sits in a folder only this user may enter, which is what keeps other users out.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromiumExecutable, runtimeDirectory } from "../../config";
import { RenderError } from "./render-error";
import { RENDER_PROTOCOL_VERSION } from "./wire";

export interface DaemonAddress {
  /** The Unix socket clients connect to. */
  socketPath: string;
  /**
   * A Linux abstract socket the daemon holds while it lives: binding it is the election (one wins, the others
   * connect), and the kernel frees it when the daemon dies, however it dies, so it is never stale.
   */
  lockName: string;
  /** The daemon's own log (its stdout and stderr), next to the socket. */
  logFile: string;
}

/** The folder above the socket: this project's root, where node_modules/fashion-ann points. */
const PROJECT_ROOT = path.resolve(__dirname, "../../..");

/**
 * A folder for this user's sockets, created with mode 0700. An existing one must be a real folder owned by
 * this user that nobody else can enter: a socket in a shared folder could be swapped for someone else's.
 */
export function privateSocketDir(base: string = runtimeDirectory() ?? os.tmpdir()): string {
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(base, `fashion-ann-${uid}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST")
      throw new RenderError(`cannot create the render daemon's folder ${dir}: ${(err as Error).message}`);
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new RenderError(
      `${dir} must be a folder of user ${uid} with mode 0700 (found ${st.isDirectory() ? `mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}` : "no folder"}); remove it and render again`,
    );
  }
  return dir;
}

/** What the daemon runs: its compiled modules (name, size, mtime), plotly.js, the Chromium binary and the protocol. */
function buildIdentity(): string {
  const hash = createHash("sha256");
  hash.update(`protocol ${RENDER_PROTOCOL_VERSION}\0${chromiumExecutable()}\0${process.version}\0`);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith(".d.ts"))
    .sort()
    .map((f) => path.join(__dirname, f));
  for (const file of [...files, require.resolve("plotly.js-dist-min/plotly.min.js")]) {
    const st = fs.statSync(file);
    hash.update(`${file}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return hash.digest("hex");
}

/** The address of the daemon for `root` and `build` (default: this project and this build), in `dir`. */
export function daemonAddress(opts: { root?: string; build?: string; dir?: string } = {}): DaemonAddress {
  const dir = opts.dir ?? privateSocketDir();
  const root = opts.root ?? PROJECT_ROOT;
  const key = `${projectKey(root)}-${createHash("sha256")
    .update(`${root}\0${opts.build ?? buildIdentity()}`)
    .digest("hex")
    .slice(0, 16)}`;
  const socketPath = path.join(dir, `render-${key}.sock`);
  // Named after the socket's full path: the same project in another runtime folder is another daemon.
  const lock = createHash("sha256").update(socketPath).digest("hex").slice(0, 24);
  return {
    socketPath,
    lockName: `\0fashion-ann-render-${process.getuid?.() ?? 0}-${lock}`,
    logFile: path.join(dir, `render-${key}.log`),
  };
}

/** The part of a socket's name that says which project it serves, whatever the build. */
function projectKey(root: string): string {
  return createHash("sha256").update(root).digest("hex").slice(0, 8);
}

/**
 * Sockets of the same project's other builds in the same folder: daemons a rebuild has superseded, which a new
 * daemon asks to stop rather than leave each holding a Chromium until it idles out.
 */
export function supersededSockets(address: DaemonAddress): string[] {
  const dir = path.dirname(address.socketPath);
  const prefix = path.basename(address.socketPath).slice(0, "render-".length + 8);
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".sock"))
    .map((f) => path.join(dir, f))
    .filter((f) => f !== address.socketPath);
}
