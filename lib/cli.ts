#!/usr/bin/env node
import * as path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { ConfigError, resolveConfig, type ConfigOverrides } from "./config";
import { runExperiment } from "./experiment";
import { runNotebooks } from "./notebooks";
import { closeRenderer } from "./plots";
import { createRun, defaultRunName, projectPath } from "./runs";

function integer(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} expects an integer, got "${value}"`);
    return Number(value);
  };
}

function number(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
    return n;
  };
}

function integerList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((p) => !/^-?\d+$/.test(p))) throw new InvalidArgumentError(`${flag} expects comma-separated integers like 300,100, got "${value}"`);
    return parts.map(Number);
  };
}

/** Every ExperimentConfig field as a flag; defaults stay in the schema, so unset flags fall back to it. */
function withConfigFlags(cmd: Command): Command {
  return cmd
    .option("--epochs <n>", "training epochs (default 30)", integer("--epochs"))
    .option("--batch-size <n>", "mini-batch size (default 32)", integer("--batch-size"))
    .option("--hidden <units>", "hidden layer sizes, comma-separated (default 300,100)", integerList("--hidden"))
    .option("--learning-rate <lr>", "SGD learning rate (default 0.01)", number("--learning-rate"))
    .option("--validation-size <n>", "first N training images held out for validation (default 5000)", integer("--validation-size"))
    .option("--seed <n>", "seed for weights and shuffling (default 42)", integer("--seed"))
    .option("--data-dir <dir>", "dataset cache folder, relative to the project (default data)")
    .addOption(new Option("--backend <name>", "tfjs backend (default auto: tensorflow, else wasm, else cpu)").choices(["auto", "tensorflow", "wasm", "cpu"]));
}

function overridesFrom(opts: Record<string, unknown>): ConfigOverrides {
  const map: Record<string, keyof ConfigOverrides> = {
    epochs: "epochs",
    batchSize: "batchSize",
    hidden: "hiddenUnits",
    learningRate: "learningRate",
    validationSize: "validationSize",
    seed: "seed",
    dataDir: "dataDir",
    backend: "backend",
  };
  const out: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(map)) if (opts[flag] !== undefined) out[field] = opts[flag];
  return out as ConfigOverrides;
}

function runDirFor(out: string | undefined): string {
  return out ? path.resolve(out) : projectPath(path.join("runs", defaultRunName()));
}

export function buildCli(): Command {
  const program = new Command("fashion-ann")
    .description("Fashion-MNIST MLP (Géron, ch. 10) on TensorFlow.js: train, run the notebooks")
    .showHelpAfterError("(run with --help for usage)");

  withConfigFlags(program.command("train").description("train the tutorial model, evaluate it on the test set, write a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .action(async (opts) => {
      const config = resolveConfig(overridesFrom(opts));
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      const result = await runExperiment(config, run);
      console.log(`test_loss ${result.metrics.test_loss.toFixed(4)}, test_accuracy ${result.metrics.test_accuracy.toFixed(4)} (${result.backend.name})`);
      console.log(`run folder: ${run.dir}`);
    });

  withConfigFlags(program.command("notebooks").description("execute every notebook in order through the tslab kernel, into a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .action(async (opts) => {
      const overrides = overridesFrom(opts);
      resolveConfig(overrides); // refuse bad values before starting a kernel
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      const started = performance.now();
      const result = await runNotebooks({ runDir: run.dir, overrides, log: (line: string) => console.log(line) });
      console.log(`executed ${result.notebooks.length} notebooks in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      console.log(`run folder: ${run.dir}`);
    });
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as Error;
    // Library errors carry the sentence a user needs; anything else keeps its stack for a bug report.
    const known = e instanceof ConfigError || /Error$/.test(e.name) && e.name !== "Error" && e.name !== "TypeError";
    console.error(`fashion-ann: ${known ? e.message : e.stack ?? String(e)}`);
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
