// HyperTuner (a notebook's build_model(hp)) with its study in a real PostgreSQL server, as a notebook kernel runs it:
// the process is SIGKILLed after its first trial (a kernel restart), then the same code runs again and must resume
// the study, not start it over, and leave search's files in the study folder.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTrials, type SearchFixture, startSearchFixture } from "./helpers/search";
import { ROOT, run } from "./spawn";

let fixture: SearchFixture;
beforeAll(async () => {
  fixture = await startSearchFixture("search-hyper-");
});
afterAll(() => fixture?.stop());

/** The notebook's code: the library from dist/ as the kernel imports it, 3 trials x 2 epochs on a subset. */
const script = (url: string, directory: string) => `
const tf = require(${JSON.stringify(path.join(ROOT, "node_modules", "@tensorflow", "tfjs"))});
const fa = require(${JSON.stringify(path.join(ROOT, "dist", "lib", "index.js"))});
(async () => {
  const config = fa.resolveConfig({});
  await fa.initBackend(config);
  const data = await fa.loadData(config);
  const first = (d, n) => ({ x: d.x.slice(0, n), y: d.y.slice(0, n) });
  const subset = { train: first(data.train, 1000), valid: first(data.valid, 500) };
  const build = (hp) => {
    const model = tf.sequential();
    model.add(tf.layers.flatten({ inputShape: [28, 28] }));
    if (hp.Boolean("hidden")) model.add(tf.layers.dense({ units: hp.Int("units", 16, 64, { step: 16 }), activation: "relu" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
    fa.compileModel(model, { optimizer: "adam", learningRate: hp.Float("lr", 1e-3, 1e-2, { sampling: "log" }) });
    return model;
  };
  const tuner = new fa.HyperTuner(build, {
    maxTrials: 3, maxEpochs: 2, seed: 3, directory: ${JSON.stringify(directory)}, projectName: "pg",
    storage: ${JSON.stringify(url)}, log: (s) => console.log(s),
  });
  await tuner.search(subset);
  const best = tuner.trials.map((t) => Math.max(...t.history)).reduce((a, b) => Math.max(a, b));
  const [model] = tuner.getBestModels(1);
  const x = tf.tensor(subset.valid.x.data, [500, 28, 28]);
  const predicted = model.predict(x).argMax(-1).dataSync();
  const right = Array.from(predicted).filter((c, i) => c === subset.valid.y.data[i]).length;
  console.log("best " + best.toFixed(4) + ", best model " + (right / 500).toFixed(4));
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

/** Starts the notebook code; resolves with the process once its stdout matches `re`. */
function startUntil(file: string, re: RegExp): Promise<{ child: ChildProcess; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (re.test(out)) resolve({ child, out });
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before ${re}: ${out}`)));
  });
}

const trained = (out: string) => [...out.matchAll(/^(trial-\d{3}) (completed|pruned)/gm)].map((m) => m[1]);

describe("HyperTuner with storage: a PostgreSQL URL", () => {
  it("a kernel killed after its first trial: the re-run resumes the study, trains only the rest, and writes search's files", async () => {
    const directory = path.join(fixture.dir, "tuning");
    const file = path.join(fixture.dir, "notebook.js");
    fs.writeFileSync(file, script(fixture.server.url, directory));

    const { child } = await startUntil(file, /^trial-000 completed/m);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    const before = await readTrials(fixture.server.url, "pg");
    expect(before.find((t) => t.id === "trial-000")?.status).toBe("completed");

    const again = await run(process.execPath, [file], { timeout: 10 * 60_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Reloading the study "pg" from postgresql:\/\/.*: 1 of its \d trials finished$/m);
    expect(trained(again.stdout)).not.toContain("trial-000");
    expect(trained(again.stdout)).toContain("trial-002");
    const after = await readTrials(fixture.server.url, "pg");
    expect(after.map((t) => t.status)).toEqual(["completed", "completed", "completed"]);
    // getBestModels: the best trial's model at its best epoch, reloaded from its checkpoint if the first process ran it.
    const [, best, model] = /^best (\S+), best model (\S+)$/m.exec(again.stdout)!;
    expect(model).toBe(best);

    const folder = path.join(directory, "pg");
    for (const f of ["trials.csv", "study.csv", "optuna-journal.log", "report.html", "figures/study_history.png", "study.json"]) {
      expect(fs.existsSync(path.join(folder, f)), f).toBe(true);
    }
    expect(fs.readFileSync(path.join(folder, "trials.csv"), "utf8").trim().split("\n")).toHaveLength(4);
    expect(fs.existsSync(path.join(folder, "study.pgdata"))).toBe(false);
  });
});
