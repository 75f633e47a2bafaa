#!/usr/bin/env node
import { Command } from "commander";
import { registerBench } from "./commands/bench";
import { registerCompare } from "./commands/compare";
import { registerEvaluate } from "./commands/evaluate";
import { registerNotebooks } from "./commands/notebooks";
import { registerReport } from "./commands/report";
import { registerPredict } from "./commands/predict";
import { registerSearch } from "./commands/search";
import { registerSweep } from "./commands/sweep";
import { registerTrain } from "./commands/train";
import { ConfigError } from "../config";
import { TrainingInterrupted } from "../runs/experiment";
import { closeRenderer } from "../figures/render/chromium";
import { onIdleSignal } from "../train/interrupt";

/** One module per command under lib/cli/commands/; each registers itself here. */
export function buildCli(): Command {
  const program = new Command("fashion-ann")
    .description("Fashion-MNIST MLP (Géron, ch. 10) on TensorFlow.js: train, run the notebooks")
    .showHelpAfterError("(run with --help for usage)");
  registerTrain(program);
  registerEvaluate(program);
  registerPredict(program);
  registerNotebooks(program);
  registerCompare(program);
  registerSweep(program);
  registerSearch(program);
  registerBench(program);
  registerReport(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as Error;
    // Library errors carry the sentence a user needs; anything else keeps its stack for a bug report.
    const known = !(e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError) && e.name !== "Error";
    console.error(`fashion-ann: ${known ? e.message : (e.stack ?? String(e))}`);
    // 130 / 143 = stopped by SIGINT (Ctrl-C) / SIGTERM, as shells report a process killed by that signal.
    if (e instanceof TrainingInterrupted) return e.signal === "SIGTERM" ? 143 : 130;
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    await closeRenderer();
  }
}

if (require.main === module) {
  // A signal outside training (loading data, rendering) ends the process with the code shells expect.
  onIdleSignal((signal) => process.exit(signal === "SIGINT" ? 130 : 143));
  main().then((code) => {
    process.exitCode = code;
  });
}
