// SIGKILL a writer at seeded random moments: every file is written through temp-and-rename, so after
// any kill the target is absent or a complete earlier version (JSON parses, weights.bin matches
// model.json), and the only debris is hidden `.<name>.<pid>.<ms>.tmp` files, which the next write of
// that file removes. The children use the built library (dist/), as the CLI does.
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
import { ROOT as root } from "./spawn";

const dist = path.join(root, "dist", "lib");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-kill-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Rewrites a ~4-5 MB JSON file forever; each version says how long its padding is. */
const BIG_WRITER = `
const { writeFileAtomic } = require(${JSON.stringify(path.join(dist, "atomic.js"))});
const file = process.argv[1];
process.stdout.write("ready\\n");
for (let i = 0; ; i++) {
  const n = 4000000 + (i % 7) * 100000;
  writeFileAtomic(file, JSON.stringify({ i, n, pad: "x".repeat(n) }));
}`;

/** Saves a small model and checkpoints it, forever, continuing the epoch count like --resume. */
const MODEL_WRITER = `
const tf = require("@tensorflow/tfjs");
const lib = require(${JSON.stringify(path.join(dist, "index.js"))});
const dir = process.argv[1];
(async () => {
  await lib.initBackend("cpu");
  const model = lib.createModel(lib.resolveConfig({ hiddenUnits: [64] }));
  const ckpt = require("path").join(dir, "checkpoints");
  const start = (lib.readPointer(ckpt, "last")?.epoch ?? -1) + 1;
  const cb = lib.checkpointCallback(model, ckpt);
  process.stdout.write("ready\\n");
  for (let epoch = start; ; epoch++) {
    model.setWeights(model.getWeights().map((w) => tf.randomUniform(w.shape)));
    await lib.saveModel(model, require("path").join(dir, "model"));
    await cb.onEpochEnd(epoch, { loss: 1, val_loss: 1 / (epoch + 1) });
  }
})();`;

/** Runs `script` with `arg`, SIGKILLs it `delayMs` after it prints "ready", resolves when it is gone. */
function killAfter(script: string, arg: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, arg], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), delayMs));
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited ${code} before the kill:\n${err}`)),
    );
  });
}

/** Names in `dir` other than `keep` must all be a writer's hidden temp files. */
function debris(dir: string, keep: string[]): string[] {
  const other = fs.readdirSync(dir).filter((f) => !keep.includes(f));
  for (const f of other) expect(f).toMatch(/^\.[^/]+\.\d+\.\d+\.tmp$/);
  return other;
}

describe("SIGKILL during writes", () => {
  it("writeFileAtomic: after 15 kills at random moments the file is absent or a complete version", async () => {
    const dir = path.join(tmp, "big");
    fs.mkdirSync(dir);
    const file = path.join(dir, "big.json");
    const rng = seededRandom(11);
    let sawTemp = 0;
    for (let k = 0; k < 15; k++) {
      await killAfter(BIG_WRITER, file, Math.floor(rng() * 400));
      if (fs.existsSync(file)) {
        const v = JSON.parse(fs.readFileSync(file, "utf8")) as { n: number; pad: string };
        expect(v.pad.length).toBe(v.n);
      }
      sawTemp += debris(dir, ["big.json"]).length > 0 ? 1 : 0;
    }
    console.log(`kill-writer: ${sawTemp}/15 kills left a temp file behind (the kill landed mid-write)`);
    // The next write of the file sweeps the temp files of the killed writers.
    writeFileAtomic(file, "{}");
    expect(fs.readdirSync(dir)).toEqual(["big.json"]);
  });

  it("saveModel and checkpointCallback: after 10 kills every model.json present loads, and last/best checkpoints load", async () => {
    await initBackend("cpu");
    const dir = path.join(tmp, "model");
    const rng = seededRandom(12);
    for (let k = 0; k < 10; k++) {
      await killAfter(MODEL_WRITER, dir, Math.floor(rng() * 300));
      const modelDir = path.join(dir, "model");
      if (fs.existsSync(path.join(modelDir, "model.json"))) {
        // loadModel checks that weights.bin's size matches the weights model.json lists.
        (await loadModel(modelDir)).dispose();
        debris(modelDir, ["model.json", "weights.bin"]);
      }
      const ckpt = path.join(dir, "checkpoints");
      for (const which of ["last", "best"] as const) {
        if (!readPointer(ckpt, which)) continue;
        const { model, pointer } = await loadCheckpoint(ckpt, which);
        expect(pointer.history.epoch.at(-1)).toBe(pointer.epoch);
        model.dispose();
      }
      if (fs.existsSync(ckpt)) {
        // Besides the pointed-at epoch folders, only hidden temp files and half-saved model folders of the
        // killed process may remain (the next save clears those of dead processes).
        for (const f of debris(
          ckpt,
          fs.readdirSync(ckpt).filter((f) => /^(last|best)\.json$|^epoch-\d+$/.test(f)),
        )) {
          expect(f).toMatch(/\.json\.\d+\.\d+\.tmp$|^\.epoch-\d+\.\d+\.\d+\.(tmp|old)$/);
        }
      }
    }
  });
});
