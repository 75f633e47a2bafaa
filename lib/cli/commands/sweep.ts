import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { childEnvironment, ExperimentConfig, resolveConfig } from "../../config";
import { makeFolder, withPathErrors } from "../../io/fs-errors";
import { TrainingInterrupted } from "../../runs/experiment";
import { assertFolderFree, defaultRunName, RunError } from "../../runs/run";
import { lastInterruptSignal, onInterrupt } from "../../train/interrupt";
import { projectPath } from "../../io/paths";
import { compareRuns } from "./compare";
import { collectSet, jsonOrString, overridesWithSet, withConfigFlags } from "../flags";

type Grid = Record<string, unknown[]>;

/**
 * `--grid learningRate=0.003,0.01,0.03` (repeatable). Values are JSON; arrays are separated by ";"
 * instead (`--grid 'hiddenUnits=[300,100];[100]'`) since they contain commas.
 */
export function collectGrid(value: string, previous: Grid = {}): Grid {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`--grid expects field=v1,v2,... (e.g. --grid learningRate=0.003,0.01), got "${value}"`);
  const key = value.slice(0, eq).trim();
  if (!(key in ExperimentConfig.shape)) {
    throw new InvalidArgumentError(`--grid ${key}: not a config field; allowed: ${Object.keys(ExperimentConfig.shape).join(", ")}`);
  }
  const raw = value.slice(eq + 1);
  const parts = raw.includes("[") ? raw.split(";") : raw.split(",");
  const values = parts.map((p) => jsonOrString(p.trim()));
  if (values.length === 0 || parts.some((p) => p.trim() === "")) throw new InvalidArgumentError(`--grid ${key}: empty value in "${raw}"`);
  return { ...previous, [key]: values };
}

/** Every combination of the grid, in the order given (the last field varies fastest). */
export function gridCombinations(grid: Grid): Record<string, unknown>[] {
  return Object.entries(grid).reduce<Record<string, unknown>[]>(
    (combos, [key, values]) => combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v }))),
    [{}],
  );
}

export function combinationName(combo: Record<string, unknown>): string {
  return Object.entries(combo)
    .map(([k, v]) => `${k}-${Array.isArray(v) ? v.join("x") : String(v)}`)
    .join("_")
    .replace(/[^\w.-]/g, "_");
}

/** The `train` worker of one combination, as its own process (own process group: signals come from the sweep). */
function spawnWorker(overrides: Record<string, unknown>, out: string, logFile: string): { child: ChildProcess; exit: Promise<number> } {
  const args = [
    path.join(__dirname, "..", "main.js"),
    "train",
    "--out",
    out,
    ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]),
  ];
  const log = withPathErrors(() => fs.openSync(logFile, "w"), logFile);
  // detached: a Ctrl-C in the terminal reaches only the sweep, which passes it on once to each worker.
  const child = spawn(process.execPath, args, { stdio: ["ignore", log, log], detached: true, env: childEnvironment({ FORCE_COLOR: "0" }) });
  const exit = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      fs.closeSync(log);
      resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1));
    });
  });
  return { child, exit };
}

/** What a stopped sweep kept of one run: its last completed epoch, from the checkpoint pointer. */
function keptEpochs(out: string): number {
  try {
    return (JSON.parse(fs.readFileSync(path.join(out, "checkpoints", "last.json"), "utf8")) as { epoch: number }).epoch + 1;
  } catch {
    return 0;
  }
}

export function registerSweep(program: Command): void {
  withConfigFlags(program.command("sweep").description("train every combination of a hyperparameter grid, then compare the runs"))
    .requiredOption("--grid <field=v1,v2>", "a config field and its values (repeatable; the grid is their product)", collectGrid)
    .option("--set <key=value>", "a fixed config value for every run (repeatable)", collectSet)
    .option(
      "--parallel <n>",
      "runs at once (each trains on one core)",
      (v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`--parallel expects a positive integer, got "${v}"`);
        return Number(v);
      },
      1,
    )
    .option("--out <dir>", "sweep folder holding one run folder per combination (default runs/sweep-<timestamp>)")
    .action(async (opts: { grid: Grid; parallel: number; out?: string } & Record<string, unknown>) => {
      const base = overridesWithSet(opts) as Record<string, unknown>;
      // Parallel runs already fill the cores; wasm threads on top would make them wait on each other.
      if (opts.parallel > 1 && base.threads === undefined) base.threads = 1;
      const combos = gridCombinations(opts.grid);
      // Validate every combination before training any of them.
      combos.forEach((c) => resolveConfig({ ...base, ...c }));
      const dir = opts.out ? path.resolve(opts.out) : projectPath(path.join("runs", `sweep-${defaultRunName()}`));
      assertFolderFree(dir, "sweep folder", "choose another --out");
      makeFolder(dir);
      console.log(`sweep: ${combos.length} runs, ${opts.parallel} at a time, into ${dir}`);
      const runs: { combo: Record<string, unknown>; out: string; code?: number }[] = combos.map((c) => ({
        combo: c,
        out: path.join(dir, combinationName(c)),
      }));
      const failed: string[] = [];
      const running = new Set<ChildProcess>();
      let stopSignal: NodeJS.Signals | undefined;
      // SIGINT/SIGTERM: start nothing new, pass the signal to every worker (each stops after its batch,
      // keeping its last completed epoch), wait for them, say what was kept, exit with the signal's code.
      const stopListening = await onInterrupt(() => {
        stopSignal = lastInterruptSignal() ?? "SIGINT";
        for (const child of running) child.kill(stopSignal);
      });
      let next = 0;
      const worker = async () => {
        while (next < runs.length && !stopSignal) {
          const r = runs[next++]!;
          const started = performance.now();
          console.log(`  start ${path.basename(r.out)}`);
          const { child, exit } = spawnWorker({ ...base, ...r.combo }, r.out, `${r.out}.log`);
          running.add(child);
          const code = await exit;
          running.delete(child);
          r.code = code;
          const secs = ((performance.now() - started) / 1000).toFixed(0);
          if (code === 130 || code === 143) continue;
          console.log(
            `  ${code === 0 ? "done " : "FAILED"} ${path.basename(r.out)} (${secs} s${code === 0 ? "" : `, exit ${code}; see ${r.out}.log`})`,
          );
          if (code !== 0) failed.push(path.basename(r.out));
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(opts.parallel, runs.length) }, worker));
      } finally {
        stopListening();
      }
      if (stopSignal) {
        const lines = runs.map((r) => {
          const name = path.basename(r.out);
          if (r.code === undefined) return `  ${name}: not started`;
          if (r.code === 0) return `  ${name}: finished`;
          const kept = keptEpochs(r.out);
          return kept > 0
            ? `  ${name}: stopped, ${kept} epoch${kept > 1 ? "s" : ""} kept; finish with: fashion-ann train --resume ${r.out}`
            : `  ${name}: stopped before its first epoch, nothing kept`;
        });
        console.log(`sweep stopped by ${stopSignal}; what each run kept:\n${lines.join("\n")}`);
        throw new TrainingInterrupted(`sweep interrupted by ${stopSignal}; finished and checkpointed runs are kept in ${dir}`, stopSignal);
      }
      const ok = runs.filter((r) => !failed.includes(path.basename(r.out))).map((r) => r.out);
      if (ok.length) await compareRuns(ok, dir);
      if (failed.length) throw new RunError(`${failed.length} of ${runs.length} sweep runs failed: ${failed.join(", ")}`);
    });
}
