/*
 * What a search trial costs besides its epochs (issue 21 part 4), and how many 1-epoch trials a minute a study runs:
 * the same random-search study (learning rate × optimizer, hidden 32, 1 epoch, --search-seed 7) with a new trainer
 * process per trial (`freshTrainers`, as every trial ran before trainers were kept) and with one trainer process
 * kept per --parallel slot (the default), the two interleaved so both meet the same machine load. Trials per minute
 * count from the study's start to its last trial's end (the results table and figures after it are left out); the
 * fixed cost of a trial is its wall time (trials.csv's seconds) minus its epoch's (history.json's seconds).
 *
 *   npm run build && npx vite-node bench/trial_cost.ts [-- --trials 16 --parallel 1,2 --rounds 1]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runSearch } from "../lib/search/session";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "16" },
    parallel: { type: "string", default: "1,2" },
    rounds: { type: "string", default: "1" },
  },
});
const TRIALS = Number(values.trials);
const PARALLEL = values.parallel.split(",").map(Number);
const ROUNDS = Number(values.rounds);
const SPACE = {
  learningRate: { type: "float", min: 0.001, max: 0.05, log: true },
  optimizer: { type: "choice", values: ["sgd", "adam"] },
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Measured {
  perMinute: number;
  fixed: number[];
  epoch: number[];
}

async function study(parallel: number, fresh: boolean, out: string): Promise<Measured> {
  let start = 0;
  let end = 0;
  const result = await runSearch({
    space: SPACE,
    tuner: "random",
    maxTrials: TRIALS,
    maxEpochs: 1,
    out,
    parallel,
    seed: 7,
    fixed: { hiddenUnits: [32] },
    retrainBest: false,
    live: false,
    freshTrainers: fresh,
    log: (line) => {
      if (line.startsWith("search: study")) start = performance.now();
      if (/trial-\d+: (completed|failed|pruned)/.test(line)) end = performance.now();
    },
  });
  const fixed: number[] = [];
  const epoch: number[] = [];
  for (const t of result.trials) {
    const seconds = JSON.parse(fs.readFileSync(path.join(out, "trials", t.id, "history.json"), "utf8")).seconds as number;
    epoch.push(seconds);
    fixed.push((t.seconds ?? Number.NaN) - seconds);
  }
  return { perMinute: (60 * result.trials.length) / ((end - start) / 1000), fixed, epoch };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fa-trial-cost-"));
  const rows: string[] = [];
  try {
    for (const parallel of PARALLEL) {
      const got: Record<string, Measured[]> = { fresh: [], kept: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of ["fresh", "kept"] as const) {
          const m = await study(parallel, mode === "fresh", path.join(tmp, `${mode}-p${parallel}-${round}`));
          console.error(`--parallel ${parallel} ${mode}: ${m.perMinute.toFixed(1)} trials/min, fixed ${median(m.fixed).toFixed(2)} s`);
          got[mode]!.push(m);
        }
      }
      for (const mode of ["fresh", "kept"] as const) {
        const ms = got[mode]!;
        const perMinute = median(ms.map((m) => m.perMinute));
        const fixed = ms.flatMap((m) => m.fixed);
        const epoch = ms.flatMap((m) => m.epoch);
        rows.push(
          `| ${parallel} | ${mode === "fresh" ? "a process per trial (before)" : "kept per slot (now)"} | ${perMinute.toFixed(1)} | ` +
            `${median(fixed).toFixed(2)} (mean ${(fixed.reduce((a, b) => a + b, 0) / fixed.length).toFixed(2)}) | ${median(epoch).toFixed(2)} |`,
        );
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${TRIALS} trials of 1 epoch, hidden 32, ${ROUNDS} round(s), load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`);
  console.log("| --parallel | trainers | trials/min | fixed s/trial, median | epoch s, median |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
