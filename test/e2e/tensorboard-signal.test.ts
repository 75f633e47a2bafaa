// `fashion-ann tensorboard` stopped by a signal sent to its own pid (a supervisor, `kill <pid>`, `timeout`), not to
// its process group: the real TensorBoard from .venv must stop with it, not keep serving with no parent.
// Driven by observable state: the command's URL line, TensorBoard's pid in /proc, the port answering or not.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/net";
import { CLI, ROOT } from "./spawn";

const available = fs.existsSync(path.join(ROOT, ".venv", "bin", "tensorboard"));
const mustRun = process.env.CI === "true";
if (!available && !mustRun) console.warn("tensorboard-signal.test.ts skipped: TensorBoard is not in .venv (npm run setup)");

const logs = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tb-signal-"));
afterAll(() => fs.rmSync(logs, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids of `pid`'s children, from /proc (Linux). */
const childrenOf = (pid: number): number[] =>
  fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

describe.runIf(available || mustRun)("fashion-ann tensorboard stopped by a signal to its own pid", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s: forwards it to TensorBoard, awaits it, exits %d in one sentence; the port is closed and no TensorBoard is left",
    async (signal, code) => {
      if (!available) throw new Error("CI=true: TensorBoard must be tested, but .venv lacks it; run npm run setup");
      const port = await freePort();
      // detached: its own process group, so the signal reaches only the command's pid, as from a supervisor.
      const cli = spawn(process.execPath, [CLI, "tensorboard", "--port", String(port), logs], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let stdout = "";
      let stderr = "";
      cli.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => cli.on("exit", (c) => resolve(c)));
      await new Promise<void>((resolve, reject) => {
        cli.stdout!.on("data", (d: Buffer) => {
          stdout += d.toString();
          if (/TensorBoard: http:\/\/\S+/.test(stdout)) resolve();
        });
        void exited.then(() => reject(new Error(`tensorboard exited before serving:\n${stdout}\n${stderr}`)));
      });
      const [tensorboard] = childrenOf(cli.pid!);
      expect(tensorboard, "TensorBoard runs as the command's child").toBeGreaterThan(0);
      expect(await answers(port)).toBe(true);
      try {
        process.kill(cli.pid!, signal);
        expect(await exited).toBe(code);
        expect(alive(tensorboard!), "TensorBoard's process is gone").toBe(false);
        expect(await answers(port)).toBe(false);
        expect(stderr).toMatch(new RegExp(`fashion-ann: TensorBoard stopped by ${signal}\\n$`));
        expect(stderr).not.toMatch(/\n\s+at /);
      } finally {
        if (tensorboard && alive(tensorboard)) process.kill(tensorboard, "SIGKILL");
      }
    },
    180_000,
  );
});
