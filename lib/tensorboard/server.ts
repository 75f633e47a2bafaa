// The real TensorBoard, from the project's Python environment (.venv, python/tensorboard.txt), on a loopback
// address: `fashion-ann tensorboard` and the tests start it here.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../io/paths";
import { UserError } from "../errors/user-error";

/** TensorBoard is not in .venv; the message says how to get it. */
class TensorBoardMissing extends UserError {
  override name = "TensorBoardMissing";
}

/** .venv/bin/tensorboard, or TensorBoardMissing saying how to install it. */
export function tensorBoardExecutable(root: string = projectRoot()): string {
  const bin = path.join(root, ".venv", "bin", "tensorboard");
  if (!fs.existsSync(bin)) {
    throw new TensorBoardMissing(
      `TensorBoard is not installed in ${path.join(root, ".venv")}; install it with \`bash scripts/python-env.sh tensorboard\` (or \`npm run setup\`).`,
    );
  }
  return bin;
}

export interface TensorBoardServer {
  url: string;
  process: ChildProcess;
  /** Everything TensorBoard printed so far (it logs to stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `--logdir_spec name:dir,...` for several folders (each named by its folder name), `--logdir dir` for one:
 * TensorBoard then names the runs by their path below it (run-1/logs/train).
 */
export function logDirArgs(dirs: readonly string[]): string[] {
  if (dirs.length === 1) return ["--logdir", path.resolve(dirs[0]!)];
  return ["--logdir_spec", dirs.map((d) => `${path.basename(path.resolve(d))}:${path.resolve(d)}`).join(",")];
}

/**
 * Starts TensorBoard on `host`:`port` over `dirs` and resolves once it serves (it prints "TensorBoard ... at
 * <url>"), or rejects with what it printed if it exits first or is silent for `timeoutMs`.
 */
export function startTensorBoard(
  dirs: readonly string[],
  options: { host?: string; port: number; timeoutMs?: number; reloadInterval?: number },
): Promise<TensorBoardServer> {
  const bin = tensorBoardExecutable();
  for (const d of dirs)
    if (!fs.existsSync(d)) throw new TensorBoardMissing(`${d} does not exist; give run or study folders (default runs/)`);
  const host = options.host ?? "127.0.0.1";
  const args = [
    ...logDirArgs(dirs),
    "--host",
    host,
    "--port",
    String(options.port),
    "--reload_interval",
    String(options.reloadInterval ?? 5),
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new UserError(`TensorBoard did not start within ${(options.timeoutMs ?? 60_000) / 1000} s; it printed: ${output.trim()}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /TensorBoard \S+ at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!.replace(/\/?$/, "/"), process: child, output: () => output, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new UserError(`TensorBoard exited (code ${code}) before serving; it printed: ${output.trim()}`));
    });
  });
}
