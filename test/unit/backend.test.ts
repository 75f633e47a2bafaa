import * as os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { BackendError, formatBackend, wasmThreads } from "../../lib/backend";

describe("wasmThreads", () => {
  const saved = process.env.FASHION_ANN_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.FASHION_ANN_THREADS;
    else process.env.FASHION_ANN_THREADS = saved;
  });

  it("auto is one per core, at most 2; a number is taken as it is", () => {
    delete process.env.FASHION_ANN_THREADS;
    expect(wasmThreads("auto")).toBe(Math.min(2, os.availableParallelism()));
    expect(wasmThreads(undefined)).toBe(wasmThreads("auto"));
    expect(wasmThreads(3)).toBe(3);
  });

  it("FASHION_ANN_THREADS overrides the config", () => {
    process.env.FASHION_ANN_THREADS = "1";
    expect(wasmThreads(4)).toBe(1);
    process.env.FASHION_ANN_THREADS = "auto";
    expect(wasmThreads(4)).toBe(Math.min(2, os.availableParallelism()));
  });

  it.each(["0", "two", "1.5", "-2"])("refuses FASHION_ANN_THREADS=%s, naming the variable and what it expects", (value) => {
    process.env.FASHION_ANN_THREADS = value;
    expect(() => wasmThreads("auto")).toThrow(BackendError);
    expect(() => wasmThreads("auto")).toThrow(`FASHION_ANN_THREADS=${value} is not a thread count; expected a positive integer or auto`);
  });
});

it("formatBackend shows the threads and why fewer run than asked", () => {
  const info = { name: "wasm" as const, simd: true, threads: 1, threadsNote: "2 threads failed (boom); running on 1", tfjsVersion: "4.22.0", skipped: [] };
  expect(formatBackend(info)).toBe("backend: wasm (SIMD on, 1 thread: 2 threads failed (boom); running on 1), tfjs 4.22.0");
  expect(formatBackend({ ...info, threads: 2, threadsNote: undefined })).toBe("backend: wasm (SIMD on, 2 threads), tfjs 4.22.0");
});
