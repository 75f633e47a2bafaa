// A real full disk: each saving path runs on a small tmpfs mounted in a private mount namespace
// (`unshare -m`, root only), filled up to its last pages, so the write fails with ENOSPC from the kernel.
// Each must throw a PathError saying "disk full" and where, and keep the previous complete file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run } from "./spawn";

const dist = path.join(ROOT, "dist", "lib");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-full-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const canMount = process.getuid?.() === 0 && fs.existsSync("/usr/bin/unshare");

/** Runs `node -e script dir` with `dir` a fresh tmpfs of `size`, alone in its mount namespace. */
function onTmpfs(script: string, size: string, ...args: string[]) {
  const dir = fs.mkdtempSync(path.join(tmp, "mnt-"));
  const file = path.join(dir, "..", `${path.basename(dir)}.js`);
  fs.writeFileSync(file, script);
  return run("unshare", ["-m", "sh", "-c", `mount -t tmpfs -o size=${size} tmpfs "$0" && exec node "$@"`, dir, file, dir, ...args], {
    timeout: 120_000,
  });
}

/** Helpers for the scripts: fill the disk, leaving `pages` 4 kB pages free, and report an error as JSON. */
const PRELUDE = `
const fs = require("fs"), path = require("path");
const dir = process.argv[2];
const filler = path.join(dir, "filler");
function fill(pages) {
  const fd = fs.openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 1);
  try { for (;;) fs.writeSync(fd, chunk); } catch (e) { if (e.code !== "ENOSPC") throw e; }
  fs.closeSync(fd);
  fs.truncateSync(filler, Math.max(0, fs.statSync(filler).size - pages * 4096));
}
const out = {};
async function attempt(name, fn) {
  try { await fn(); out[name] = { ok: true }; }
  catch (e) { out[name] = { name: e.name, code: e.code, message: e.message }; }
}
`;

describe.skipIf(!canMount)("disk full (ENOSPC on a real tmpfs)", () => {
  it("writeFileAtomic, Run.saveHistory, saveModel, the checkpoint pointer and saveFig each keep the previous file and say so", async () => {
    const script = `${PRELUDE}
const lib = require(${JSON.stringify(path.join(dist, "index.js"))});
const { writeFileAtomic } = require(${JSON.stringify(path.join(dist, "io", "atomic.js"))});
(async () => {
  await lib.initBackend("cpu");
  const model = lib.createModel(lib.resolveConfig({ hiddenUnits: [8] }));
  const run = new lib.Run(path.join(dir, "run"));
  const history = { epoch: [0], history: { loss: [1], val_loss: [1] }, params: {} };
  run.saveHistory(history);
  await run.saveModel(model);
  const ckpt = lib.checkpointCallback(model, run.checkpointsDir);
  await ckpt.onEpochEnd(0, { loss: 1, val_loss: 1 });
  fs.writeFileSync(path.join(dir, "fig.png"), "old");
  fill(0);
  await attempt("atomic", () => writeFileAtomic(path.join(dir, "big.json"), "x".repeat(100000)));
  await attempt("history", () => run.saveHistory({ ...history, epoch: [0, 1], history: { loss: [1, 0.5], val_loss: [1, 0.5] } }));
  await attempt("model", () => run.saveModel(model));
  await attempt("checkpoint", () => ckpt.onEpochEnd(1, { loss: 0.5, val_loss: 0.5 }));
  await attempt("figure", () => lib.saveFig(lib.imageFigure(new Float32Array(784)), "fig", { dir }));
  // Room for the epoch's checkpoint folder (7 pages of weights, 1 of model.json, 1 of optimizer.json; the empty
  // optimizer.bin of plain SGD takes none) but not for the pointer after it.
  fill(9);
  await attempt("pointer", () => ckpt.onEpochEnd(2, { loss: 0.4, val_loss: 0.4 }));
  out.historyCsv = fs.readFileSync(run.file("history.csv"), "utf8");
  out.modelLoads = (await lib.loadModel(run.modelDir)).layers.length;
  out.last = JSON.parse(fs.readFileSync(path.join(run.checkpointsDir, "last.json"), "utf8")).epoch;
  out.lastLoads = (await lib.loadCheckpoint(run.checkpointsDir, "last")).pointer.dir;
  out.fig = fs.readFileSync(path.join(dir, "fig.png"), "utf8");
  out.leftovers = fs.readdirSync(dir, { recursive: true }).filter((f) => /\\.tmp$/.test(f));
  await lib.closeRenderer();
  console.log(JSON.stringify(out));
})();`;
    const r = await onTmpfs(script, "1m");
    expect(r.stderr).not.toMatch(/Error|at /);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    for (const name of ["atomic", "history", "model", "checkpoint", "figure", "pointer"]) {
      expect(out[name], name).toMatchObject({ name: "PathError", code: "ENOSPC" });
      expect(out[name].message, name).toMatch(
        /^disk full while writing \/\S+ \([\d.]+ MB free left on that file system\); free some space/,
      );
    }
    expect(out.history.message).toMatch(/history\.csv .*; the previous complete file is kept$/);
    expect(out.model.message).toMatch(/run\/model\/\S+ .*; the previous complete model is kept$/);
    expect(out.pointer.message).toMatch(/checkpoints\/last\.json .*; the previous complete file is kept$/);
    expect(out.historyCsv).toBe("epoch,loss,val_loss\n0,1,1\n");
    expect(out.modelLoads).toBe(3);
    expect(out.last).toBe(0);
    expect(out.lastLoads).toBe("epoch-001");
    expect(out.fig).toBe("old");
    expect(out.leftovers).toEqual([]);
  }, 180_000);

  it("train whose checkpoint no longer fits stops cleanly, naming the kept epoch and the resume command", async () => {
    // [300, 100] weights are 1 MB: epoch 1's checkpoint fits in 2 MB, epoch 2's beside it does not.
    const script = `process.argv.splice(1, 2, ${JSON.stringify(path.join(dist, "cli", "main.js"))}, "train", "--epochs", "3", "--out", require("path").join(process.argv[2], "run"), "--data-dir", ${JSON.stringify(path.join(ROOT, "data"))});
require(${JSON.stringify(path.join(dist, "cli", "main.js"))}).main().then((code) => { process.exitCode = code; });`;
    const r = await onTmpfs(script, "2m");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /fashion-ann: disk full while writing \S+\/run\/checkpoints\/epoch-002\/weights\.bin .*; training stopped: the last complete checkpoint is epoch 1 in \S+\/checkpoints; once there is room, finish with: fashion-ann train --resume \S+\/run\n$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);
});
