import type { Command } from "commander";
import { UserError } from "../../errors/user-error";
import { projectPath } from "../../io/paths";
import { integer } from "../flags";

/** How long TensorBoard gets to exit after the forwarded signal before it is killed. */
const CHILD_GRACE_MS = 10_000;

export function registerTensorBoard(program: Command): void {
  program
    .command("tensorboard")
    .description("start TensorBoard (from .venv) on the runs' and studies' logs, and print its URL")
    .argument("[dirs...]", "run or study folders (default runs/)")
    .option("--port <n>", "port", integer("--port"), 6006)
    .option("--host <address>", "address to listen on (default 127.0.0.1, this machine only)", "127.0.0.1")
    .action(tensorBoardAction);
}

/**
 * Serves until TensorBoard exits or this process gets SIGINT/SIGTERM. A signal sent to this pid alone (`kill <pid>`,
 * a supervisor, `timeout`) does not reach TensorBoard, a Python child in the same process group only for a
 * terminal's Ctrl-C: so it is forwarded, TensorBoard awaited (killed after CHILD_GRACE_MS), and the command ends
 * with the shells' code for that signal (130/143) instead of leaving TensorBoard serving with no parent.
 */
async function tensorBoardAction(dirs: string[], opts: { port: number; host: string }): Promise<void> {
  const { startTensorBoard } = await import("../../tensorboard/server");
  const { onInterrupt, lastInterruptSignal } = await import("../../train/interrupt");
  const { TrainingInterrupted } = await import("../../runs/interrupted");
  const server = await startTensorBoard(dirs.length ? dirs : [projectPath("runs")], { host: opts.host, port: opts.port });
  const child = server.process;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  let stoppedBy: NodeJS.Signals | undefined;
  const stopListening = await onInterrupt(() => {
    stoppedBy = lastInterruptSignal() ?? "SIGTERM";
    child.kill(stoppedBy);
    setTimeout(() => child.kill("SIGKILL"), CHILD_GRACE_MS).unref();
  });
  try {
    console.log(`TensorBoard: ${server.url}  (Ctrl-C stops it)`);
    server.process.stderr!.pipe(process.stderr);
    await exited;
  } finally {
    stopListening();
  }
  if (stoppedBy) throw new TrainingInterrupted(`TensorBoard stopped by ${stoppedBy}`, stoppedBy);
  if (child.exitCode !== 0) {
    const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    throw new UserError(`TensorBoard ${how}; its output is above`);
  }
}
