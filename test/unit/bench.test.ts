import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { backendList, integerAtLeast, registerBench } from "../../lib/cli/commands/bench";
import {
  BENCH_BACKENDS,
  extrapolateEpoch,
  formatTable,
  median,
  otherLoad,
  parseBackendList,
  reportJson,
  summarizeRun,
  tableRows,
  withRatios,
  type EpochRecord,
  type RawRun,
} from "../../lib/bench/report";
import { parsePeerOutput, shuffleOrders, uint32LE } from "../../lib/bench/peer";
import { seededRandom, shuffledIndices } from "../../lib/train/shuffle";

function epoch(seconds: number, extra: Partial<EpochRecord> = {}): EpochRecord {
  return { seconds, train_seconds: seconds - 0.5, val_accuracy: 0.8, val_loss: 0.5, tensors: 7, rss_mb: 400, ...extra };
}

function raw(backend: RawRun["backend"], seconds: number[], extra: Partial<RawRun> = {}): RawRun {
  return { backend, batch_size: 32, samples: 55_000, steps: 1719, epochs: seconds.map((s) => epoch(s)), peak_rss_mb: 500, ...extra };
}

describe("parseBackendList", () => {
  it("keeps the given order and drops duplicates and blanks: 'pytorch, wasm,,wasm'", () => {
    expect(parseBackendList("pytorch, wasm,,wasm")).toEqual(["pytorch", "wasm"]);
  });

  it("rejects an unknown name, naming it and the allowed ones", () => {
    expect(() => parseBackendList("wasm,webgl")).toThrow(
      /unknown backend "webgl"; expected some of tensorflow, native, native-1thread, wasm, wasm-1thread, wasm-stock, cpu, pytorch/,
    );
  });

  it("rejects an empty list", () => {
    expect(() => parseBackendList(" , ")).toThrow(/--backends expects a comma-separated list/);
  });
});

describe("bench option parsers", () => {
  it("integerAtLeast('--epochs', 1) refuses 0 and non-integers", () => {
    const parse = integerAtLeast("--epochs", 1);
    expect(parse("3")).toBe(3);
    expect(() => parse("0")).toThrow(/--epochs must be at least 1, got 0/);
    expect(() => parse("1.5")).toThrow(/--epochs expects an integer, got "1.5"/);
  });

  it("backendList turns a bad name into commander's InvalidArgumentError", () => {
    expect(() => backendList("gpu")).toThrow(
      expect.objectContaining({ code: "commander.invalidArgument", message: expect.stringMatching(/unknown backend "gpu"/) }),
    );
  });

  it("the bench command refuses --cpu-batches 1 before running anything", async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerBench(program);
    await expect(program.parseAsync(["node", "cli", "bench", "--cpu-batches", "1"])).rejects.toThrow(
      /--cpu-batches must be at least 2, got 1/,
    );
  });

  it("the bench command refuses --backends wasm,foo", async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerBench(program);
    await expect(program.parseAsync(["node", "cli", "bench", "--backends", "wasm,foo"])).rejects.toThrow(/unknown backend "foo"/);
  });
});

describe("extrapolateEpoch", () => {
  it("scales the per-batch time of batches 2..N to all steps, keeping batch 1 and adding validation", () => {
    // batch 1 ends at 0.5 s (warm-up); batches 2..11 take 0.1 s each; 101 steps; validation 2 s.
    const t = extrapolateEpoch({ steps: 101, batchesTimed: 11, firstBatchEnd: 0.5, lastBatchEnd: 1.5, validationSeconds: 2 });
    expect(t.train_seconds).toBeCloseTo(0.5 + 0.1 * 100, 10);
    expect(t.seconds).toBeCloseTo(12.5, 10);
  });

  it("needs at least 2 timed batches", () => {
    expect(() => extrapolateEpoch({ steps: 10, batchesTimed: 1, firstBatchEnd: 1, lastBatchEnd: 1, validationSeconds: 0 })).toThrow(
      /at least 2 timed batches.*got 1/,
    );
  });
});

describe("otherLoad", () => {
  it("is the machine's busy seconds minus our own, per wall second, never negative", () => {
    expect(otherLoad(30, 20, 10)).toBe(1);
    expect(otherLoad(19, 20, 10)).toBe(0);
    expect(() => otherLoad(1, 1, 0)).toThrow(/wall time must be positive, got 0/);
  });
});

describe("median", () => {
  it("of an odd and an even count", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("summarizeRun and withRatios", () => {
  it("takes the median epoch, samples per training second, the last val_accuracy and first/last tensors and RSS", () => {
    const run = raw("wasm", [6, 4, 5]);
    run.epochs[2] = epoch(5, { val_accuracy: 0.85, tensors: 8, rss_mb: 420 });
    const r = summarizeRun(run);
    expect(r.seconds_per_epoch).toBe(5);
    expect(r.train_seconds_per_epoch).toBe(4.5);
    expect(r.samples_per_second).toBeCloseTo(55_000 / 4.5, 10);
    expect(r.val_accuracy).toBe(0.85);
    expect([r.tensors_epoch1, r.tensors_last, r.rss_mb_epoch1, r.rss_mb_last]).toEqual([7, 8, 400, 420]);
    expect(r.extrapolated).toBe(false);
    expect(r.notes).toMatch(/median of 3 epochs/);
  });

  it("marks an extrapolated run and says val_accuracy is after the timed batches", () => {
    const r = summarizeRun(raw("cpu", [160], { batches_timed: 200 }));
    expect(r.extrapolated).toBe(true);
    expect(r.batches_timed).toBe(200);
    expect(r.notes).toMatch(/val_accuracy after 200 batches only/);
  });

  it("notes a busy machine when other processes used 0.15 cores or more, and records the load", () => {
    const busy = summarizeRun(raw("wasm", [5]), { otherLoad: 0.8 });
    expect(busy.other_load).toBe(0.8);
    expect(busy.notes).toMatch(/machine busy: other processes used 0\.8 cores/);
    expect(summarizeRun(raw("wasm", [5]), { otherLoad: 0.05 }).notes).not.toMatch(/busy/);
    expect(summarizeRun(raw("wasm", [5])).other_load).toBeNull();
  });

  it("refuses a run with no epochs", () => {
    expect(() => summarizeRun(raw("wasm", []))).toThrow(/wasm: the child reported no epochs/);
  });

  it("divides each row's seconds per epoch by PyTorch's", () => {
    const rows = withRatios([summarizeRun(raw("wasm", [5])), summarizeRun(raw("pytorch", [2]))]);
    expect(rows.map((r) => r.ratio_to_pytorch)).toEqual([2.5, 1]);
  });

  it("divides each row's seconds per epoch by Keras's too", () => {
    const rows = withRatios([summarizeRun(raw("native", [1])), summarizeRun(raw("pytorch", [2])), summarizeRun(raw("keras", [4]))]);
    expect(rows.map((r) => r.ratio_to_keras)).toEqual([0.25, 0.5, 1]);
    expect(rows.map((r) => r.ratio_to_pytorch)).toEqual([0.5, 1, 2]);
  });

  it("leaves the ratio null without a PyTorch row", () => {
    expect(withRatios([summarizeRun(raw("wasm", [5]))])[0]!.ratio_to_pytorch).toBeNull();
  });
});

describe("report output", () => {
  const report = {
    results: withRatios([
      summarizeRun(raw("wasm", [5, 4])),
      summarizeRun(raw("cpu", [160], { batches_timed: 200 })),
      summarizeRun(raw("pytorch", [2, 2])),
    ]),
    skipped: [{ backend: "tensorflow" as const, reason: "@tensorflow/tfjs-node is not installed" }],
    environment: { epochs: 2 },
  };

  it("JSON has a results array with the documented fields per row", () => {
    const json = JSON.parse(reportJson(report));
    expect(json.results).toHaveLength(3);
    for (const key of [
      "backend",
      "batch_size",
      "seconds_per_epoch",
      "samples_per_second",
      "val_accuracy",
      "peak_rss_mb",
      "ratio_to_pytorch",
      "extrapolated",
      "tensors_epoch1",
      "tensors_last",
      "rss_mb_epoch1",
      "rss_mb_last",
    ]) {
      expect(json.results[0]).toHaveProperty(key);
    }
    expect(json.results[0]).toMatchObject({ backend: "wasm", seconds_per_epoch: 4.5, ratio_to_pytorch: 2.25 });
    expect(json.skipped).toEqual([{ backend: "tensorflow", reason: "@tensorflow/tfjs-node is not installed" }]);
  });

  it("the table labels the extrapolated row, shows the ratio and the skipped backend's reason", () => {
    const rows = tableRows(report);
    expect(rows[0]).toEqual(["backend", "s/epoch", "samples/s", "val_accuracy", "peak RSS MB", "x PyTorch", "x Keras", "notes"]);
    expect(rows[1]).toEqual(["wasm", "4.50", "13,750", "0.8000", "500", "2.25x", "-", "median of 2 epochs; tensors 7->7, RSS 400->400 MB"]);
    expect(rows[2]![0]).toBe("cpu (extrapolated from 200 batches)");
    expect(rows[4]).toEqual(["tensorflow", "-", "-", "-", "-", "-", "-", "skipped: @tensorflow/tfjs-node is not installed"]);
    // The printed table wraps long cells, so look for pieces of them.
    const text = formatTable(report);
    expect(text).toMatch(/│\s+2\.25x\s+│/);
    expect(text).toMatch(/cpu \(extrapolated/);
  });
});

describe("the PyTorch peer's inputs and output", () => {
  it("shuffleOrders gives each epoch the permutation train() draws from the same seed", () => {
    const orders = shuffleOrders(10, 3, 42);
    const random = seededRandom(42);
    for (let e = 0; e < 3; e++) expect(Array.from(orders.subarray(e * 10, e * 10 + 10))).toEqual(Array.from(shuffledIndices(10, random)));
  });

  it("uint32LE writes little-endian bytes", () => {
    expect([...uint32LE(Uint32Array.of(1, 0x01020304))]).toEqual([1, 0, 0, 0, 4, 3, 2, 1]);
  });

  it("parsePeerOutput reads the last stdout line as the run", () => {
    const run = raw("pytorch", [1]);
    expect(parsePeerOutput(`warning: something\n${JSON.stringify(run)}\n`)).toEqual(run);
  });

  it("parsePeerOutput names what it got when the line is not the peer's JSON", () => {
    expect(() => parsePeerOutput("Traceback (most recent call last)")).toThrow(/expected a JSON line on stdout, got "Traceback/);
    expect(() => parsePeerOutput('{"backend": "wasm", "epochs": []}')).toThrow(/expected \{"backend": "pytorch"/);
    expect(() => parsePeerOutput('{"backend": "pytorch", "epochs": []}', "keras")).toThrow(/keras_peer\.py: expected \{"backend": "keras"/);
  });
});

it("BENCH_BACKENDS lists the default path, its one-thread variant, the stock baseline and the peer", () => {
  expect(BENCH_BACKENDS).toEqual([
    "tensorflow",
    "native",
    "native-1thread",
    "wasm",
    "wasm-1thread",
    "wasm-stock",
    "cpu",
    "pytorch",
    "keras",
  ]);
  expect(parseBackendList("wasm-1thread,wasm")).toEqual(["wasm-1thread", "wasm"]);
});
