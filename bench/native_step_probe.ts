/*
 * Times the fused native training step (lib/engine/native/) on the tutorial's model and data:
 * 784 → 300 relu → 100 relu → 10 softmax, batch 32, SGD 0.01, 55,000 training images (1,719 steps,
 * the last of 24 rows) and 5,000 validation images, as in the book.
 *
 *   npx vite-node bench/native_step_probe.ts [-- --epochs 3 --threads 1,2 --blas-threads 1 --random]
 *
 * Prints, per thread count of the addon's kernels (--threads; OpenBLAS keeps --blas-threads, default 1), each epoch's wall time split into the steps (and within them, the
 * time in matrix products: BLAS calls and the addon's own forward kernel), the JS around them (shuffle, batch copy, bindings check), and the
 * validation pass both natively (trainer.evaluate) and through tfjs's model.predict on the native
 * backend; then medians and ranges. Real data comes from Debian's dataset-fashion-mnist, else
 * random data of the same shape (timing only; the accuracy is then meaningless).
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { loadAddon } from "../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../lib/engine/native/backend";
import { nativeDenseStep } from "../lib/engine/native/step";

const DATA_DIR = "/usr/share/datasets/fashion-mnist";
const IMAGE_MAGIC = 2051;
const LABEL_MAGIC = 2049;
const PIXELS = 28 * 28;
const VALID = 5000;
const BATCH = 32;

interface Args {
  epochs: number;
  /** The addon's kernel threads (setThreads) to compare, one run each. */
  threads: number[];
  /** OpenBLAS's threads (setBlasThreads) for every run. */
  blasThreads: number;
  random: boolean;
  /** "native": step.rows() gathers the batch in the addon; "js": the loop copies rows into a buffer. */
  gather: "native" | "js";
  /** With native gathering: prefetch the next batch's rows during each step (default on). */
  prefetch: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { epochs: 3, threads: [1, 2], blasThreads: 1, random: false, gather: "native", prefetch: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--epochs") args.epochs = Number(argv[++i]);
    else if (a === "--threads") args.threads = argv[++i]!.split(",").map(Number);
    else if (a === "--blas-threads") args.blasThreads = Number(argv[++i]);
    else if (a === "--random") args.random = true;
    else if (a === "--gather") args.gather = argv[++i] === "js" ? "js" : "native";
    else if (a === "--no-prefetch") args.prefetch = false;
    else if (a !== "--") throw new Error(`unknown argument ${a}; expected --epochs N, --threads 1,2, --blas-threads N, --random, --gather native|js, --no-prefetch`);
  }
  return args;
}

/** An IDX file's payload after checking its magic number. */
function readIdx(file: string, magic: number): { count: number; data: Uint8Array } {
  const bytes = zlib.gunzipSync(fs.readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${file}: magic ${view.getUint32(0)}, expected ${magic}`);
  const dims = magic & 0xff;
  return { count: view.getUint32(4), data: bytes.subarray(4 + 4 * dims) };
}

interface Split {
  x: Float32Array;
  y: Int32Array;
}

function loadData(random: boolean): { train: Split; valid: Split; source: string } {
  const imagesFile = `${DATA_DIR}/train-images-idx3-ubyte.gz`;
  if (!random && fs.existsSync(imagesFile)) {
    const images = readIdx(imagesFile, IMAGE_MAGIC);
    const labels = readIdx(`${DATA_DIR}/train-labels-idx1-ubyte.gz`, LABEL_MAGIC);
    // Pixels scaled to 0..1, as the tutorial does; the first 5,000 images validate.
    const x = Float32Array.from(images.data, (v) => v / 255);
    const y = Int32Array.from(labels.data);
    return {
      train: { x: x.subarray(VALID * PIXELS), y: y.subarray(VALID) },
      valid: { x: x.subarray(0, VALID * PIXELS), y: y.subarray(0, VALID) },
      source: DATA_DIR,
    };
  }
  const rand = lcg(1);
  const x = Float32Array.from({ length: 60000 * PIXELS }, () => rand());
  const y = Int32Array.from({ length: 60000 }, () => Math.floor(rand() * 10));
  return { train: { x: x.subarray(VALID * PIXELS), y: y.subarray(VALID) }, valid: { x: x.subarray(0, VALID * PIXELS), y: y.subarray(0, VALID) }, source: "random data" };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function tutorialModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28] }));
  [300, 100, 10].forEach((units, i) =>
    model.add(tf.layers.dense({ units, activation: i === 2 ? "softmax" : "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 42 + i }) })),
  );
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.01) });
  return model;
}

interface EpochTiming {
  threads: number;
  epochS: number;
  /** Process CPU time (user + system) over the epoch: with one BLAS thread, close to the wall time an idle core would give. */
  cpuS: number;
  stepsS: number;
  sgemmS: number;
  jsS: number;
  /** Of jsS, the addon's gathering of batch rows (step.rows). */
  gatherS: number;
  validNativeS: number;
  validTfjsS: number;
  valAccuracy: number;
  loss: number;
}

/** One epoch: seeded shuffle, batches copied into one reused buffer, the fused step on each. */
function trainEpoch(step: NonNullable<ReturnType<typeof nativeDenseStep>["step"]>, train: Split, rand: () => number, args: Args): { loss: number } {
  const n = train.y.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const xb = new Float32Array(BATCH * PIXELS);
  const yb = new Int32Array(BATCH);
  let lossSum = 0;
  for (let start = 0; start < n; start += BATCH) {
    const rows = Math.min(BATCH, n - start);
    if (args.gather === "native") {
      const next = args.prefetch ? order.subarray(start + BATCH, start + 2 * BATCH) : undefined;
      lossSum += step.rows(train.x, train.y, order.subarray(start, start + rows), next).loss * rows;
      continue;
    }
    for (let r = 0; r < rows; r++) {
      const from = order[start + r]! * PIXELS;
      xb.set(train.x.subarray(from, from + PIXELS), r * PIXELS);
      yb[r] = train.y[order[start + r]!]!;
    }
    lossSum += step(xb, yb, rows).loss * rows;
  }
  return { loss: lossSum / n };
}

/** Validation as the project's loop does it today: model.apply in chunks on the native backend. */
function tfjsValidation(model: tf.LayersModel, valid: Split): number {
  let correct = 0;
  for (let start = 0; start < VALID; start += 2048) {
    const rows = Math.min(2048, VALID - start);
    correct += tf.tidy(() => {
      const probs = model.apply(tf.tensor(valid.x.subarray(start * PIXELS, (start + rows) * PIXELS), [rows, 28, 28]), { training: false }) as tf.Tensor;
      return tf.sum(tf.equal(tf.argMax(probs, -1), tf.tensor1d(valid.y.subarray(start, start + rows), "int32"))).dataSync()[0]!;
    });
  }
  return correct / VALID;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const load = loadAddon();
  if (!load.addon) throw new Error(load.reason);
  const reason = registerNativeBackend();
  if (reason) throw new Error(reason);
  await tf.setBackend(NATIVE_BACKEND);
  const { train, valid, source } = loadData(args.random);
  console.log(`data: ${source}; ${train.y.length} train, ${valid.y.length} valid; ${Math.ceil(train.y.length / BATCH)} steps/epoch`);
  console.log(`addon: ${JSON.stringify(load.addon.info())}; batches gathered in ${args.gather === "native" ? `the addon (step.rows${args.prefetch ? ", next batch prefetched" : ""})` : "JS"}`);

  const timings: EpochTiming[] = [];
  load.addon.setBlasThreads(args.blasThreads);
  for (const threads of args.threads) {
    load.addon.setThreads(threads);
    const model = tutorialModel();
    const choice = nativeDenseStep(model);
    if (!choice.step) throw new Error(choice.reason);
    const step = choice.step;
    const rand = lcg(42);
    for (let e = 0; e < args.epochs; e++) {
      step.trainer.resetCounters();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { loss } = trainEpoch(step, train, rand, args);
      const t1 = performance.now();
      const v = step.evaluate(valid.x, valid.y);
      const t2 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const tfjsAccuracy = tfjsValidation(model, valid);
      const t3 = performance.now();
      const c = step.trainer.counters();
      const timing: EpochTiming = {
        threads,
        epochS: (t2 - t0) / 1000,
        cpuS: (cpu.user + cpu.system) / 1e6,
        stepsS: (c.stepMs) / 1000,
        sgemmS: c.sgemmMs / 1000,
        jsS: (t1 - t0 - c.stepMs) / 1000,
        gatherS: c.gatherMs / 1000,
        validNativeS: (t2 - t1) / 1000,
        validTfjsS: (t3 - t2) / 1000,
        valAccuracy: v.correct / VALID,
        loss,
      };
      if (Math.abs(tfjsAccuracy - timing.valAccuracy) > 1e-9) console.warn(`validation accuracy differs: native ${timing.valAccuracy}, tfjs ${tfjsAccuracy}`);
      timings.push(timing);
      console.log(
        `threads ${threads} epoch ${e + 1}: ${timing.epochS.toFixed(3)} s, cpu ${timing.cpuS.toFixed(3)} s (steps ${timing.stepsS.toFixed(3)} s = ${((c.stepMs / c.steps) * 1000).toFixed(0)} µs/step, ` +
          `matmul ${((100 * c.sgemmMs) / c.stepMs).toFixed(0)}% of it; outside the steps ${timing.jsS.toFixed(3)} s, of it batch gather ${timing.gatherS.toFixed(3)} s; validation ${(timing.validNativeS * 1000).toFixed(0)} ms native, ` +
          `${(timing.validTfjsS * 1000).toFixed(0)} ms via model.apply) loss ${loss.toFixed(4)} val_accuracy ${timing.valAccuracy.toFixed(4)}`,
      );
    }
    model.dispose();
  }
  summarize(timings, args.threads);
  load.addon.setThreads(1);
  load.addon.setBlasThreads(1);
}

function summarize(timings: EpochTiming[], threads: number[]): void {
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    return `${median.toFixed(3)} [${s[0]!.toFixed(3)}–${s[s.length - 1]!.toFixed(3)}]`;
  };
  console.log("\nmedian [min–max] over epochs");
  for (const t of new Set(threads)) {
    const rows = timings.filter((x) => x.threads === t);
    console.log(
      `threads ${t}: epoch ${stats(rows.map((r) => r.epochS))} s (cpu ${stats(rows.map((r) => r.cpuS))} s); ms/step ${stats(rows.map((r) => (r.stepsS * 1000) / 1719))}; ` +
        `matmul share ${stats(rows.map((r) => r.sgemmS / r.stepsS))}; outside the steps ${stats(rows.map((r) => r.jsS))} s (batch gather ${stats(rows.map((r) => r.gatherS))} s); validation native ${stats(rows.map((r) => r.validNativeS))} s, model.apply ${stats(rows.map((r) => r.validTfjsS))} s`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
