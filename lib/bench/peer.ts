import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { DEFAULT_SYSTEM_DIRS, FASHION_MNIST_FILES } from "../data/fashion-mnist";
import { seededRandom, shuffledIndices } from "../train/shuffle";
import { projectPath } from "../io/paths";
import { BenchError, type RawRun } from "./report";
import { childEnvironment, type ExperimentConfig } from "../config";

/** Debian's python3-torch is built for the system interpreter, not whatever `python3` comes first on PATH. */
const PEER_PYTHON = "/usr/bin/python3";
export const PEER_SCRIPT = "bench/pytorch_peer.py";
/** The Keras peer runs in the project's .venv (python/keras.txt: Keras 3.15.1 on TensorFlow 2.21 CPU). */
const KERAS_PEER_SCRIPT = "bench/keras_peer.py";
const kerasPython = (): string => projectPath(".venv/bin/python");
/** Threads for the peer: the 2 cores of the machines this was tuned on, as many as the wasm row's auto threads use. */
export const PEER_THREADS = 2;

export interface PeerOptions {
  /** The resolved config every node row trains with; the peer builds the same model, optimizer and inputs. */
  config: ExperimentConfig;
  /** Training images: the Fashion-MNIST training set minus the validation images. */
  samples: number;
  /** Also evaluate on the test set after training (the Keras peer; bench --fidelity). */
  test?: boolean;
}

/** Config fields the peer does not mirror, each with the value that makes it mirrorable (the schema default). */
const UNMIRRORED: readonly { field: keyof ExperimentConfig; off: (c: ExperimentConfig) => boolean }[] = [
  // torch's schedulers step per epoch or per call, Keras's per step from the config's own formulas; not ported.
  { field: "lrSchedule", off: (c) => c.lrSchedule === null },
  // Stopping early would time a different number of epochs than the node row.
  { field: "patience", off: (c) => c.patience === null },
];

/** Why a peer cannot run `config` side by side with the node rows (naming the fields), or undefined if it can. */
export function peerCannotMirror(config: ExperimentConfig, peer: "PyTorch" | "Keras" = "PyTorch"): string | undefined {
  const fields = UNMIRRORED.filter((u) => !u.off(config)).map((u) => u.field);
  if (fields.length === 0) return undefined;
  return `the ${peer} peer does not mirror ${fields.join(" or ")} (set by --set); the ratio would compare unlike runs`;
}

/** The JSON the peer reads from argv: everything of `config` that shapes training, in bench/pytorch_peer.py's names. */
export function peerSpec(config: ExperimentConfig, orderFile: string) {
  return {
    order_file: orderFile,
    data_dirs: [projectPath(config.dataDir), ...DEFAULT_SYSTEM_DIRS],
    files: FASHION_MNIST_FILES,
    epochs: config.epochs,
    batch_size: config.batchSize,
    validation_size: config.validationSize,
    normalize: config.normalize,
    hidden_units: config.hiddenUnits,
    activation: config.activation,
    initializer: config.initializer,
    batch_norm: config.batchNorm,
    dropout: config.dropout,
    l2: config.l2,
    optimizer: config.optimizer,
    learning_rate: config.learningRate,
    momentum: config.momentum,
    nesterov: config.nesterov,
    weight_decay: config.weightDecay,
    clip_norm: config.clipNorm,
    clip_value: config.clipValue,
    seed: config.seed,
    threads: PEER_THREADS,
  };
}

/**
 * The batch order train() uses, epoch after epoch: one seeded stream, one Fisher-Yates shuffle per
 * epoch (lib/train.ts draws them the same way), so the peer sees the very same batches.
 * @returns uint32 indices into the training rows, epochs x samples, row-major
 */
export function shuffleOrders(samples: number, epochs: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const out = new Uint32Array(samples * epochs);
  for (let e = 0; e < epochs; e++) out.set(shuffledIndices(samples, random), e * samples);
  return out;
}

/** Little-endian bytes whatever the host's byte order, as the Python side reads them ("<u4"). */
export function uint32LE(values: Uint32Array): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeUInt32LE(values[i]!, i * 4);
  return buf;
}

/** Why the peer cannot run, or undefined if `import torch` works. */
export function peerUnavailable(python = PEER_PYTHON): string | undefined {
  if (!fs.existsSync(python)) return `${python} not found (apt-get install python3-torch)`;
  const r = spawnSync(python, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (r.status !== 0)
    return `${python}: import torch failed (${(r.stderr || r.error?.message || "").trim().split("\n").pop()}); apt-get install python3-torch`;
  return undefined;
}

/** Why the Keras peer cannot run, or undefined if keras and tensorflow are installed in .venv (without importing them). */
export function kerasPeerUnavailable(python = kerasPython()): string | undefined {
  if (!fs.existsSync(python)) return `${python} not found (npm run setup installs python/keras.txt into .venv)`;
  const probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('keras') and u.find_spec('tensorflow') else 1)";
  if (spawnSync(python, ["-c", probe]).status !== 0)
    return "keras or tensorflow is not installed in .venv (npm run setup installs python/keras.txt)";
  return undefined;
}

/** Runs bench/pytorch_peer.py (or bench/keras_peer.py) on the same data and batch order; progress passes through to stderr. */
export async function runPeer(o: PeerOptions, peer: "pytorch" | "keras" = "pytorch"): Promise<RawRun> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-bench-"));
  try {
    const orderFile = path.join(tmp, "order.u32");
    writeFileAtomic(orderFile, uint32LE(shuffleOrders(o.samples, o.config.epochs, o.config.seed)));
    const spec = { ...peerSpec(o.config, orderFile), ...(o.test && { test: true }) };
    const [python, script] = peer === "keras" ? [kerasPython(), KERAS_PEER_SCRIPT] : [PEER_PYTHON, PEER_SCRIPT];
    const stdout = await runCapturing(
      python,
      [projectPath(script), JSON.stringify(spec)],
      childEnvironment({ OMP_WAIT_POLICY: "PASSIVE", TF_CPP_MIN_LOG_LEVEL: "3" }),
    );
    return parsePeerOutput(stdout, peer);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The peer's last stdout line is its RawRun JSON. */
export function parsePeerOutput(stdout: string, peer: "pytorch" | "keras" = "pytorch"): RawRun {
  const script = peer === "keras" ? KERAS_PEER_SCRIPT : PEER_SCRIPT;
  const last = stdout.trim().split("\n").pop() ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw new BenchError(`${script}: expected a JSON line on stdout, got ${JSON.stringify(last.slice(0, 200))}`);
  }
  const run = parsed as RawRun;
  if (run?.backend !== peer || !Array.isArray(run.epochs))
    throw new BenchError(`${script}: expected {"backend": "${peer}", "epochs": [...]}, got ${last.slice(0, 200)}`);
  return run;
}

function runCapturing(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new BenchError(`${path.basename(args[0]!)} exited with ${signal ?? `code ${code}`}`));
    });
  });
}
