import { spawn, type SpawnOptions } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const CLI = path.join(ROOT, "dist", "lib", "cli.js");

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

/** `node dist/lib/cli.js ...args` */
export function runCli(args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<Finished> {
  return run(process.execPath, [CLI, ...args], options);
}
