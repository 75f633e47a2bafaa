import { spawn, spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import * as readline from "node:readline";
import type { Params } from "../../search/core/space";
import { projectPath } from "../../io/paths";
import { BenchError } from "../report";
import type { SamplerObjective, SyntheticObjective } from "./objectives";
import type { StudyRun } from "./simulate";

const OPTUNA_PEER_SCRIPT = "bench/optuna_peer.py";
const venvPython = (): string => projectPath(".venv/bin/python");

/** Why Optuna cannot run (one sentence), or undefined when .venv has optuna 5.0.0. */
export function optunaUnavailable(python = venvPython()): string | undefined {
  if (!fs.existsSync(python)) return `${python} not found (bash scripts/setup.sh installs python/optuna.txt into .venv)`;
  const r = spawnSync(python, ["-c", "import optuna; print(optuna.__version__)"], { encoding: "utf8" });
  if (r.status !== 0) return "optuna is not installed in .venv (bash scripts/python-env.sh optuna installs it)";
  if (r.stdout.trim() !== "5.0.0") return `.venv has optuna ${r.stdout.trim()}, the benchmark compares with 5.0.0 (python/optuna.txt)`;
  return undefined;
}

interface PeerLine {
  seed?: number;
  params?: Params;
  seconds?: number;
  done?: boolean;
}

/**
 * Optuna's TPESampler (defaults, seeded) on `objective`, one study per seed, through bench/optuna_peer.py's
 * ask-and-tell loop: the peer proposes, this side evaluates the same function our samplers see (for the Fashion-MNIST
 * objective: trains the model here, so only the sampler differs).
 */
export async function runOptunaTpe(objective: SamplerObjective, seeds: readonly number[], trials: number): Promise<StudyRun[]> {
  const spec = JSON.stringify({ space: objective.space, seeds, trials });
  const child = spawn(venvPython(), [projectPath(OPTUNA_PEER_SCRIPT), spec], { stdio: ["pipe", "pipe", "inherit"] });
  const runs = new Map<number, StudyRun>();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let done = false;
  for await (const text of readline.createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as PeerLine;
    if (line.done) {
      done = true;
      break;
    }
    const run = runs.get(line.seed!) ?? { bestSoFar: [], suggestSeconds: [] };
    runs.set(line.seed!, run);
    const value = await objective.evaluate(line.params!);
    run.bestSoFar.push(Math.min(value, run.bestSoFar.at(-1) ?? Infinity));
    run.suggestSeconds.push(line.seconds!);
    child.stdin.write(`${JSON.stringify({ value })}\n`);
  }
  child.stdin.end();
  const code = await exited;
  if (!done || code !== 0)
    throw new BenchError(`the Optuna peer (${OPTUNA_PEER_SCRIPT}) stopped early with status ${code}; see its output above`);
  return seeds.map((s) => runs.get(s)!);
}

/**
 * Optuna's time (seconds, median of 5) for one suggestion once a study holds these finished trials; the history goes
 * to the peer in a file, since a thousand trials' params would strain a command line.
 */
export function optunaSuggestionSeconds(objective: SyntheticObjective, params: Params[], values: number[]): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-optuna-"));
  try {
    const file = path.join(dir, "spec.json");
    fs.writeFileSync(file, JSON.stringify({ space: objective.space, history: { params, values } }));
    const r = spawnSync(venvPython(), [projectPath(OPTUNA_PEER_SCRIPT), `@${file}`], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new BenchError(`the Optuna peer could not time a suggestion: ${r.stderr.trim().split("\n").pop()}`);
    return (JSON.parse(r.stdout) as { seconds: number }).seconds;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
