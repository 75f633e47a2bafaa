#!/usr/bin/env node
/*
 * Seconds per training epoch of the tutorial's MLP (784-300-100-10, batch 32, SGD 0.01, 1,719 steps on 55,000
 * rows) on the raw addon, for several builds or kernel sets, in fresh processes taken in turns (A B C A B C ...)
 * so that a loaded machine slows them alike; compare the ratios, not the absolute times. Each epoch's CPU seconds
 * (user + system) are reported too: with one kernel thread and one BLAS thread they are the work itself, which
 * other processes on the machine inflate far less than the wall time.
 *
 *   node bench/native_build_ab.mjs [--rounds 3] [--threads 1] label=path/to/addon.node[,ENV=value...] ...
 *
 * e.g. native=native/build/Release/fashion_ann_native.node baseline=native/build/Release/fashion_ann_native.node,FASHION_ANN_NATIVE_KERNELS=baseline
 * Random pixels in [0, 1): the timing does not depend on the values.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const EPOCH = String.raw`
const a = require(process.argv[1]);
const threads = Number(process.argv[2]);
a.setThreads(threads);
const N = 55000, D = 784, B = 32;
let s = 1;
const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const x = Float32Array.from({ length: N * D }, rand);
const y = Int32Array.from({ length: N }, (_, i) => i % 10);
const t = new a.Trainer({ inputSize: D, maxBatch: B, layers: [{ units: 300, activation: "relu" }, { units: 100, activation: "relu" }, { units: 10 }], optimizer: { kind: "sgd", learningRate: 0.01 } });
[D * 300, 300, 300 * 100, 100, 100 * 10, 10].forEach((n, i) => t.bindVariable(i, Float32Array.from({ length: n }, () => (rand() - 0.5) * 0.1)));
const order = Uint32Array.from({ length: N }, (_, i) => i);
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
for (let i = 0; i < N; i += B) t.stepRows(x, y, order.subarray(i, Math.min(N, i + B)));
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1e6;
const info = a.info();
console.log(JSON.stringify({ seconds, cpu, kernels: info.kernels ?? info.simd, core: info.core }));
`;

const args = process.argv.slice(2);
let rounds = 3, threads = 1;
const variants = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--rounds") rounds = Number(args[++i]);
  else if (args[i] === "--threads") threads = Number(args[++i]);
  else {
    const [label, spec] = args[i].split(/=(.*)/s);
    const [file, ...envs] = spec.split(",");
    variants.push({ label, file: path.resolve(file), env: Object.fromEntries(envs.map((e) => e.split(/=(.*)/s))) });
  }
}
const times = new Map(variants.map((v) => [v.label, []]));
const cpus = new Map(variants.map((v) => [v.label, []]));
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const run = spawnSync(process.execPath, ["-e", EPOCH, v.file, String(threads)], { env: { ...process.env, ...v.env }, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`${v.label}: ${run.stderr}`);
    const res = JSON.parse(run.stdout);
    times.get(v.label).push(res.seconds);
    cpus.get(v.label).push(res.cpu);
    process.stderr.write(`round ${r + 1} ${v.label}: ${res.seconds.toFixed(2)} s, CPU ${res.cpu.toFixed(2)} s (kernels ${res.kernels}, OpenBLAS ${res.core})\n`);
  }
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const base = median(times.get(variants[0].label));
const cpuBase = median(cpus.get(variants[0].label));
console.log("variant\tmedian s/epoch\tratio\tmedian CPU s/epoch\tratio\twall, all rounds");
for (const v of variants) {
  const m = median(times.get(v.label));
  const c = median(cpus.get(v.label));
  const all = times.get(v.label).map((t) => t.toFixed(2)).join(" ");
  console.log(`${v.label}\t${m.toFixed(2)}\t${(m / base).toFixed(2)}\t${c.toFixed(2)}\t${(c / cpuBase).toFixed(2)}\t${all}`);
}
