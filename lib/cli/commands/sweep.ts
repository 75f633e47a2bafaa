import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { childEnvironment, ExperimentConfig, resolveConfig } from "../../config";
import { defaultRunName, RunError } from "../../runs/run";
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

function trainChild(overrides: Record<string, unknown>, out: string, logFile: string): Promise<number> {
  const args = [
    path.join(__dirname, "..", "cli.js"),
    "train",
    "--out",
    out,
    ...Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]),
  ];
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, "w");
    const child = spawn(process.execPath, args, { stdio: ["ignore", log, log], env: childEnvironment({ FORCE_COLOR: "0" }) });
    child.on("error", reject);
    child.on("exit", (code) => {
      fs.closeSync(log);
      resolve(code ?? 1);
    });
  });
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
      if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
        throw new RunError(`sweep folder ${dir} already exists and is not empty; choose another --out`);
      fs.mkdirSync(dir, { recursive: true });
      console.log(`sweep: ${combos.length} runs, ${opts.parallel} at a time, into ${dir}`);
      const runs = combos.map((c) => ({ combo: c, out: path.join(dir, combinationName(c)) }));
      const failed: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < runs.length) {
          const r = runs[next++]!;
          const started = performance.now();
          console.log(`  start ${path.basename(r.out)}`);
          const code = await trainChild({ ...base, ...r.combo }, r.out, `${r.out}.log`);
          const secs = ((performance.now() - started) / 1000).toFixed(0);
          console.log(
            `  ${code === 0 ? "done " : "FAILED"} ${path.basename(r.out)} (${secs} s${code === 0 ? "" : `, exit ${code}; see ${r.out}.log`})`,
          );
          if (code !== 0) failed.push(path.basename(r.out));
        }
      };
      await Promise.all(Array.from({ length: Math.min(opts.parallel, runs.length) }, worker));
      const ok = runs.filter((r) => !failed.includes(path.basename(r.out))).map((r) => r.out);
      if (ok.length) await compareRuns(ok, dir);
      if (failed.length) throw new RunError(`${failed.length} of ${runs.length} sweep runs failed: ${failed.join(", ")}`);
    });
}
