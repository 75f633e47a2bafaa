import { describe, expect, it } from "vitest";
import { ROOT, run } from "./spawn";

// A script as a user would write one: no process.exit, so it must end by itself once its work is done
// (XNNPACK's pool threads must not keep Node alive).
const script = (threads: number) => `
const fa = require(${JSON.stringify(`${ROOT}/dist/lib/index.js`)});
(async () => {
  const config = fa.resolveConfig({ epochs: 2, backend: "wasm", threads: ${threads} });
  const backend = await fa.initBackend(config);
  const data = await fa.loadData(config);
  const n = 32 * 100;
  const subset = { train: { x: data.train.x.slice(0, n), y: data.train.y.slice(0, n) }, valid: { x: data.valid.x.slice(0, 1000), y: data.valid.y.slice(0, 1000) } };
  const model = fa.createModel(config);
  const history = await fa.train(model, subset, config, { progress: "none" });
  console.log(JSON.stringify({ backend: fa.formatBackend(backend), history: history.history }));
})();
`;

describe("wasm threads (real data)", () => {
  it("2 threads train to exactly the history of 1 thread, and the script exits by itself", async () => {
    const results = [];
    for (const threads of [2, 1]) {
      const r = await run(process.execPath, ["-e", script(threads)], {
        timeout: 120_000,
        env: { ...process.env, FASHION_ANN_THREADS: "" },
      });
      expect(r.signal, `${threads} thread(s): killed after 120 s, so the process did not exit; stderr: ${r.stderr}`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      results.push(JSON.parse(r.stdout.trim().split("\n").pop()!) as { backend: string; history: Record<string, number[]> });
    }
    const [two, one] = results;
    expect(two!.backend).toMatch(/^backend: wasm \(SIMD on, 2 threads\)/);
    expect(one!.backend).toMatch(/^backend: wasm \(SIMD on, 1 thread\)/);
    expect(two!.history.val_accuracy).toHaveLength(2);
    expect(two!.history).toEqual(one!.history);
  });
});
