#!/usr/bin/env node
import { Command } from "commander";
import { registerNotebooks } from "./commands/notebooks";
import { registerTrain } from "./commands/train";
import { ConfigError } from "./config";
import { closeRenderer } from "./plots";

/** One module per command under lib/commands/; each registers itself here. */
export function buildCli(): Command {
  const program = new Command("fashion-ann")
    .description("Fashion-MNIST MLP (Géron, ch. 10) on TensorFlow.js: train, run the notebooks")
    .showHelpAfterError("(run with --help for usage)");
  registerTrain(program);
  registerNotebooks(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as Error;
    // Library errors carry the sentence a user needs; anything else keeps its stack for a bug report.
    const known = e instanceof ConfigError || (/Error$/.test(e.name) && e.name !== "Error" && e.name !== "TypeError");
    console.error(`fashion-ann: ${known ? e.message : (e.stack ?? String(e))}`);
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    await closeRenderer();
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
