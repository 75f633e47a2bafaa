// SIGKILL a writer at seeded random moments: every file is written through temp-and-rename, so after
// any kill the target is absent or a complete earlier version (JSON parses, weights.bin matches
// model.json). Every leftover is classified: a hidden `.<name>.<pid>.<ms>.tmp` of the killed writer
// (removed by the next write), or, for a model killed between saveModel's two renames, no model folder
// and the previous complete model in `.model.<pid>.<ms>.old` (put back by the next save or load).
// Each test asserts that some kills did land mid-write, so it cannot pass by killing too early.
// The children use the built library (dist/), as the CLI does.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { writeFileAtomic } from "../../lib/io/atomic";
import { loadCheckpoint, readPointer } from "../../lib/train/callbacks/checkpoint";
import { initBackend } from "../../lib/engine/backend";
import { seededRandom } from "../../lib/train/shuffle";
import { loadModel } from "../../lib/model/files";
import { historyFromCsv } from "../../lib/results/history";
import { ROOT as root } from "./spawn";

const dist = path.join(root, "dist", "lib");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-kill-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Rewrites a ~4-5 MB JSON file forever; each version says how long its padding is. */
const BIG_WRITER = `
const { writeFileAtomic } = require(${JSON.stringify(path.join(dist, "io", "atomic.js"))});
const file = process.argv[1];
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  const n = 4000000 + (i % 7) * 100000;
  writeFileAtomic(file, JSON.stringify({ i, n, pad: "x".repeat(n) }));
}`;

/** Saves a model, its checkpoint (folder, then pointers) and the history, forever, continuing the epoch count like --resume. */
const MODEL_WRITER = `
const tf = require(${JSON.stringify(require.resolve("@tensorflow/tfjs"))});
const lib = require(${JSON.stringify(path.join(dist, "index.js"))});
const { readPointer } = require(${JSON.stringify(path.join(dist, "train", "callbacks", "checkpoint.js"))});
const dir = process.argv[1];
(async () => {
  await lib.initBackend("cpu");
  const model = lib.createModel(lib.resolveConfig({ hiddenUnits: [64] }));
  const run = new lib.Run(dir);
  const start = (readPointer(run.checkpointsDir, "last")?.epoch ?? -1) + 1;
  const cb = lib.checkpointCallback(model, run.checkpointsDir);
  // The first save puts back or sweeps what the killed writer before left (its .old); only then may a kill come, or
  // a kill before it (a busy machine can delay it past the shortest kills) would leave that writer's .old behind.
  await run.saveModel(model);
  process.stdout.write("ready\\n");
  for (let epoch = start; ; epoch++) {
    model.setWeights(model.getWeights().map((w) => tf.randomUniform(w.shape)));
    await run.saveModel(model);
    await cb.onEpochEnd(epoch, { loss: 1, val_loss: 1 / (epoch + 1) });
    const n = epoch + 1;
    run.saveHistory({ epoch: [...Array(n).keys()], history: { loss: Array(n).fill(1), val_loss: Array(n).fill(0.5) }, params: {} });
  }
})();`;

/** Runs `script` with `arg`, SIGKILLs it `delayMs` after it prints "ready", resolves to its pid when it is gone. */
function killAfter(script: string, arg: string, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, arg], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), delayMs));
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve(child.pid!) : reject(new Error(`writer exited ${code} before the kill:\n${err}`)),
    );
  });
}

/**
 * Names in `dir` other than `keep` must all be a writer's hidden leftovers, `leftover`: by default its temp files. A
 * checkpoints folder may also hold a re-saved epoch's folder moved aside (`.epoch-N.<pid>.<ms>.old`) when a kill came
 * between the new folder's two renames.
 */
function debris(dir: string, keep: string[], leftover = /^\.[^/]+\.\d+\.\d+\.tmp$/): string[] {
  const other = fs.readdirSync(dir).filter((f) => !keep.includes(f));
  for (const f of other) expect(f).toMatch(leftover);
  return other;
}

describe("SIGKILL during writes", () => {
  it("writeFileAtomic: after 15 kills at random moments the file is absent or a complete version", async () => {
    const dir = path.join(tmp, "big");
    fs.mkdirSync(dir);
    const file = path.join(dir, "big.json");
    const rng = seededRandom(11);
    let midWrite = 0;
    for (let k = 0; k < 15; k++) {
      const pid = await killAfter(BIG_WRITER, file, Math.floor(rng() * 400));
      if (fs.existsSync(file)) {
        const v = JSON.parse(fs.readFileSync(file, "utf8")) as { n: number; pad: string };
        expect(v.pad.length).toBe(v.n);
      }
      midWrite += debris(dir, ["big.json"]).some((f) => f.startsWith(`.big.json.${pid}.`)) ? 1 : 0;
    }
    console.log(`kill-writer: ${midWrite}/15 kills landed mid-write (left that writer's temp file)`);
    expect(midWrite).toBeGreaterThan(0);
    // The next write of the file sweeps the temp files of the killed writers.
    writeFileAtomic(file, "{}");
    expect(fs.readdirSync(dir)).toEqual(["big.json"]);
  });

  it("saveModel, checkpoint pointers and history: after 25 kills every leftover is classified, and some landed mid-write", async () => {
    await initBackend("cpu");
    const dir = path.join(tmp, "model");
    const rng = seededRandom(12);
    const seen = { tmp: 0, old: 0, pointer: 0, history: 0 };
    for (let k = 0; k < 25; k++) {
      const pid = await killAfter(MODEL_WRITER, dir, Math.floor(rng() * 600));
      const modelDir = path.join(dir, "model");
      const olds = fs.readdirSync(dir).filter((f) => f.startsWith(".model.") && f.endsWith(".old"));
      if (fs.existsSync(path.join(modelDir, "model.json"))) {
        // loadModel checks that weights.bin's size matches the weights model.json lists.
        (await loadModel(modelDir)).dispose();
        debris(modelDir, ["model.json", "weights.bin"]);
      }
      for (const old of olds) {
        expect(old).toMatch(new RegExp(`^\\.model\\.${pid}\\.\\d+\\.old$`));
        // Killed after the second rename, while removing the old model: debris the next save sweeps.
        if (fs.existsSync(modelDir)) continue;
        // Killed between the two renames: no model folder, the previous complete model aside.
        expect(olds).toHaveLength(1);
        (await loadModel(path.join(dir, old))).dispose();
        seen.old++;
      }
      for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("."))) {
        expect(f).toMatch(/^\.(model\.\d+\.\d+\.(tmp|old)|(history\.csv|history\.json)\.\d+\.\d+\.tmp)$/);
        if (f.includes(`.${pid}.`) && f.endsWith(".tmp")) f.startsWith(".history") ? seen.history++ : seen.tmp++;
      }
      if (fs.existsSync(path.join(dir, "history.csv")))
        expect(historyFromCsv(fs.readFileSync(path.join(dir, "history.csv"), "utf8")).epoch.length).toBeGreaterThan(0);
      const ckpt = path.join(dir, "checkpoints");
      for (const which of ["last", "best"] as const) {
        if (!readPointer(ckpt, which)) continue;
        const { model, pointer } = await loadCheckpoint(ckpt, which);
        expect(pointer.history.epoch.at(-1)).toBe(pointer.epoch);
        model.dispose();
      }
      if (fs.existsSync(ckpt)) {
        // Besides the pointed-at epoch folders, only the killed writer's hidden temp files and half-saved epoch folders.
        for (const f of debris(
          ckpt,
          fs.readdirSync(ckpt).filter((f) => /^(last|best)\.json$|^epoch-\d+$/.test(f)),
          /^\.(last|best)\.json\.\d+\.\d+\.tmp$|^\.epoch-\d+\.\d+\.\d+\.(tmp|old)$/,
        )) {
          if (/^\.(last|best)\.json\./.test(f) && f.includes(`.${pid}.`)) seen.pointer++;
          if (/^\.epoch-/.test(f) && f.includes(`.${pid}.`)) seen.tmp++;
        }
      }
    }
    console.log(`kill-writer: kills mid-write: ${JSON.stringify(seen)}`);
    expect(seen.tmp + seen.old + seen.pointer + seen.history).toBeGreaterThan(0);
    // The next save puts a model left aside between the two renames back, or replaces it; either way no debris.
    await initBackend("cpu");
    const { createModel } = await import("../../lib/model/factory");
    const { saveModel } = await import("../../lib/model/files");
    const { resolveConfig } = await import("../../lib/config");
    const m = createModel(resolveConfig({ hiddenUnits: [64] }));
    await saveModel(m, path.join(dir, "model"));
    m.dispose();
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".model."))).toEqual([]);
  }, 300_000);
});
