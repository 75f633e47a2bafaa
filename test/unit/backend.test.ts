import * as os from "node:os";
import { describe, expect, it } from "vitest";
import { autoThreads, formatBackend, wasmThreads } from "../../lib/engine/backend";

describe("wasmThreads", () => {
  it("auto is one per core, at most 2; a number is taken as it is", () => {
    expect(wasmThreads("auto")).toEqual({ threads: Math.min(2, os.availableParallelism()), auto: true });
    expect(wasmThreads(undefined)).toEqual(wasmThreads("auto"));
    expect(wasmThreads(3)).toEqual({ threads: 3, auto: false });
  });
});

describe("autoThreads", () => {
  const busy = (cores: number | undefined) => async () => cores;

  it("keeps the threads when the cores are free, or when /proc/stat cannot tell", async () => {
    expect(await autoThreads(2, busy(0.1), 2)).toEqual({ threads: 2 });
    expect(await autoThreads(2, busy(undefined), 2)).toEqual({ threads: 2 });
    expect(await autoThreads(2, busy(5.2), 8)).toEqual({ threads: 2 });
  });

  it("takes only the free cores when other processes keep them busy, and says so", async () => {
    const r = await autoThreads(2, busy(1.0), 2);
    expect(r.threads).toBe(1);
    expect(r.note).toBe("other processes kept 1.0 of 2 cores busy at start; threads: 2 (or FASHION_ANN_THREADS=2) forces 2");
    expect((await autoThreads(2, busy(0.6), 2)).threads).toBe(1);
    expect((await autoThreads(2, busy(3.0), 2)).threads).toBe(1);
    expect((await autoThreads(2, busy(6.7), 8)).threads).toBe(1);
  });
});

it("formatBackend shows the threads and why fewer run than asked", () => {
  const info = {
    name: "wasm" as const,
    simd: true,
    threads: 1,
    threadsNote: "2 threads failed (boom); running on 1",
    tfjsVersion: "4.22.0",
    skipped: [],
  };
  expect(formatBackend(info)).toBe("backend: wasm (SIMD on, 1 thread: 2 threads failed (boom); running on 1), tfjs 4.22.0");
  expect(formatBackend({ ...info, threads: 2, threadsNote: undefined })).toBe("backend: wasm (SIMD on, 2 threads), tfjs 4.22.0");
});
