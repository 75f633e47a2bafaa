import type { Command } from "commander";
import { projectPath } from "../../io/paths";
import { integer } from "../flags";

export function registerTensorBoard(program: Command): void {
  program
    .command("tensorboard")
    .description("start TensorBoard (from .venv) on the runs' and studies' logs, and print its URL")
    .argument("[dirs...]", "run or study folders (default runs/)")
    .option("--port <n>", "port", integer("--port"), 6006)
    .option("--host <address>", "address to listen on (default 127.0.0.1, this machine only)", "127.0.0.1")
    .action(async (dirs: string[], opts: { port: number; host: string }) => {
      const { startTensorBoard } = await import("../../tensorboard/server");
      const server = await startTensorBoard(dirs.length ? dirs : [projectPath("runs")], { host: opts.host, port: opts.port });
      console.log(`TensorBoard: ${server.url}  (Ctrl-C stops it)`);
      // TensorBoard keeps serving until Ctrl-C / SIGTERM, which reach it as well (same process group).
      server.process.stderr!.pipe(process.stderr);
      await new Promise<void>((resolve) => server.process.once("exit", () => resolve()));
    });
}
