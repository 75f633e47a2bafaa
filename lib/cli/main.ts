#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerBench } from "./commands/bench";
import { registerCompare } from "./commands/compare";
import { registerEvaluate } from "./commands/evaluate";
import { registerKeras } from "./commands/keras";
import { registerLrFind } from "./commands/lr-find";
import { registerNotebooks } from "./commands/notebooks";
import { registerReport } from "./commands/report";
import { registerPredict } from "./commands/predict";
import { registerSearch } from "./commands/search";
import { registerSweep } from "./commands/sweep";
import { registerTensorBoard } from "./commands/tensorboard";
import { registerTrain } from "./commands/train";
import { addHelpExamples } from "./help-examples";
import { ConfigError } from "../config";
import { UserError } from "../errors/user-error";
import { isErrnoError, pathError } from "../io/fs-errors";
import { TrainingInterrupted } from "../runs/interrupted";
import { closeRenderer } from "../figures/render/chromium";
import { onIdleSignal } from "../train/interrupt";

/** Where bug reports go; printed under the stack of an unexpected error. */
const REPORT_BUG = "This is a bug in fashion-ann, not something you did: please report it with the command you ran and the lines above.";

/** Set when commander printed its own error (bad flag, missing argument), so main does not print it twice. */
let commanderPrinted = false;

/**
 * One module per command under lib/cli/commands/; each registers itself here. Commander never exits by
 * itself (exitOverride, inherited by every command added after it): its errors come back to main as
 * CommanderErrors, which get the bad-input exit code like a bad config value.
 */
export function buildCli(): Command {
  const program = new Command("fashion-ann")
    .description("Fashion-MNIST MLP (Géron, ch. 10) on TensorFlow.js: train, run the notebooks")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => {
        commanderPrinted = true;
        write(`fashion-ann: ${text}`);
      },
    });
  registerTrain(program);
  registerEvaluate(program);
  registerPredict(program);
  registerNotebooks(program);
  registerCompare(program);
  registerSweep(program);
  registerSearch(program);
  registerLrFind(program);
  registerBench(program);
  registerReport(program);
  registerTensorBoard(program);
  registerKeras(program);
  addHelpExamples(program);
  return program;
}

/**
 * The exit-code table (README "Exit codes"): 0 success (and --help), 2 bad flags or config values (commander's
 * own errors included), 130 / 143 stopped by SIGINT / SIGTERM, 1 any other error.
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2;
  // 130 / 143 = stopped by SIGINT (Ctrl-C) / SIGTERM, as shells report a process killed by that signal.
  if (err instanceof TrainingInterrupted) return err.signal === "SIGTERM" ? 143 : 130;
  return err instanceof ConfigError ? 2 : 1;
}

/**
 * A UserError (of any area) or a raw file-system error is something the user can fix: its message is the sentence
 * to print. Anything else (a plain Error, a TypeError, a thrown string) is a bug: its stack and a request to report it.
 */
function isBug(err: unknown): boolean {
  return !(err instanceof UserError || isErrnoError(err));
}

/** What the CLI prints for an error that is not commander's: the user's one sentence, or a bug's stack and where to report it. */
export function errorReport(err: unknown): string {
  if (isBug(err)) return `fashion-ann: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n${REPORT_BUG}`;
  // A file-system error that no library code named yet still gets its one sentence, not a stack.
  return `fashion-ann: ${isErrnoError(err) ? pathError(err).message : (err as Error).message}`;
}

/**
 * Runs the CLI on `argv` and returns its exit code. `onError` sees the error behind a non-zero code before its
 * sentence is printed: a caller running commands in-process (the search's trainer process) learns what stopped them.
 */
export async function main(argv = process.argv, onError?: (err: unknown) => void): Promise<number> {
  commanderPrinted = false;
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    const code = exitCodeOf(err);
    onError?.(err);
    if (err instanceof CommanderError) {
      // "(outputHelp)": a bare `fashion-ann` printed the usage, which says it all.
      if (!commanderPrinted && code !== 0 && err.code !== "commander.help")
        console.error(`fashion-ann: ${err.message.replace(/^error: /, "")}`);
    } else console.error(errorReport(err));
    return code;
  } finally {
    await closeRenderer();
  }
}

if (require.main === module) {
  // A signal outside training (loading data, rendering) ends the process with the code shells expect.
  onIdleSignal((signal) => process.exit(signal === "SIGINT" ? 130 : 143));
  // `fashion-ann train --help | head`: a reader that stopped reading is not an error worth a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  main().then((code) => {
    process.exitCode = code;
  });
}
