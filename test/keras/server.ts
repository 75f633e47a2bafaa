// The tests' handle on real Keras: one long-lived Python child per test file (test/keras/keras_server.py), so
// TensorFlow's import (about 10 s) is paid once per file, not per test. Requests and replies are JSON lines.
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { projectRoot } from "../../lib/io/paths";

export const KERAS_PYTHON = path.join(projectRoot(), ".venv", "bin", "python");
const SERVER = path.join(projectRoot(), "test", "keras", "keras_server.py");
/** CI must run the Keras comparisons, so there a missing Keras fails the file instead of skipping it. */
export const kerasRequired = process.env.CI === "true";

/** Why Keras cannot be started (one sentence), or undefined; asks Python where the packages are, without importing them. */
export function kerasMissing(): string | undefined {
  if (!fs.existsSync(KERAS_PYTHON)) return `${KERAS_PYTHON} does not exist; run npm run setup (it installs python/keras.txt)`;
  const probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('keras') and u.find_spec('tensorflow') else 1)";
  if (spawnSync(KERAS_PYTHON, ["-c", probe]).status !== 0)
    return `keras or tensorflow is not installed in .venv; run npm run setup (it installs python/keras.txt)`;
  return undefined;
}

/** True when the file's Keras tests should run; otherwise says why they are skipped, once, on stderr. */
export function kerasTestsRun(file: string): boolean {
  const missing = kerasMissing();
  if (missing && !kerasRequired) console.warn(`${file} skipped: ${missing}`);
  return !missing || kerasRequired;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

export class KerasServer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on("line", (line) => this.reply(line));
    child.on("exit", (code, signal) => {
      this.exited = `the Keras server exited with ${signal ?? `code ${code}`}`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  /** Starts the server and waits for TensorFlow to load; throws the reason when Keras is missing. */
  static async start(): Promise<KerasServer> {
    const missing = kerasMissing();
    if (missing) throw new Error(`Keras is required here (CI=true) but ${missing}`);
    const child = spawn(KERAS_PYTHON, [SERVER], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" },
    });
    const server = new KerasServer(child);
    await server.call("versions");
    return server;
  }

  call<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  private reply(line: string): void {
    const msg = JSON.parse(line) as { id: number; result?: unknown; error?: string };
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(new Error(`Keras: ${msg.error}`));
    else p.resolve(msg.result);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    await done;
  }
}

/** Images [n, 28, 28] as the raw float32 file the server reads. */
export function writeImages(file: string, data: Float32Array): string {
  fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return file;
}

/** Labels as the raw uint8 file the server reads. */
export function writeLabels(file: string, labels: ArrayLike<number>): string {
  fs.writeFileSync(file, Uint8Array.from(labels));
  return file;
}

export function readFloats(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
