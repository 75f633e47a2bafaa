import { spawn, type SpawnOptions } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const CLI = path.join(ROOT, "dist", "lib", "cli", "main.js");

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion without blocking the test worker: vitest's worker must keep answering its
 * RPC while a long child (training, notebooks) runs, which spawnSync/execFileSync would prevent.
 */
export function run(command: string, args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = options.timeout ? setTimeout(() => child.kill("SIGKILL"), options.timeout) : undefined;
    child.on("error", reject);
    child.on("close", (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** `node dist/lib/cli/main.js ...args` */
export function runCli(args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<Finished> {
  return run(process.execPath, [CLI, ...args], options);
}

/** Starts `fashion-ann train` in the background; `seen(re)` resolves once stdout matches (rejects if it exits first). */
export function startTrain(args: string[]) {
  const child = spawn(process.execPath, [CLI, "train", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.filter((w) => w.re.test(out))) w.resolve();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const seen = (re: RegExp): Promise<void> =>
    re.test(out)
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((resolve) => waiters.push({ re, resolve })),
          exit.then(() => {
            throw new Error(`train exited before printing ${re}:\n${out}\n${err}`);
          }),
        ]);
  return { child, out: () => out, err: () => err, seen, exit };
}
