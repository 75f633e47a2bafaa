import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../../lib/model/factory";
import type { History } from "../../lib/train/callbacks/callback";
import { type LiveDisplay, type LiveImage, liveProgress } from "../../lib/train/callbacks/live";
import { formatBarLine, kerasBar, throttle } from "../../lib/train/callbacks/progbar";
import { train } from "../../lib/train/fit";

/** A display that records every call, as tslab's would send update_display_data for each. */
class FakeDisplay implements LiveDisplay {
  texts: string[] = [];
  images: LiveImage[] = [];
  text(s: string) {
    this.texts.push(s);
  }
  svg(s: string) {
    this.images.push({ svg: s });
  }
  png(b: Uint8Array) {
    this.images.push({ png: b });
  }
  get last() {
    return this.texts.at(-1) ?? "";
  }
}

function fakeDisplays() {
  const made: FakeDisplay[] = [];
  return { made, newDisplay: () => made[made.push(new FakeDisplay()) - 1]! };
}

const params: History["params"] = { epochs: 2, steps: 1719, batchSize: 32, samples: 55000 };

describe("Keras's progress bar line", () => {
  it("reads 1234/1719 [=====>....] - ETA: 1s - loss - accuracy mid-epoch", () => {
    const line = formatBarLine(1234, 1719, 3.2, { batch: 1233, size: 32, loss: 0.41234, accuracy: 0.85411 });
    expect(line).toBe(`1234/1719 [${"=".repeat(20)}>${".".repeat(9)}] - ETA: 1s - loss: 0.4123 - accuracy: 0.8541`);
  });

  it("pads the count to the total's width and starts with an empty bar at 0/1719", () => {
    expect(formatBarLine(0, 1719, 0, {})).toBe(`   0/1719 [${".".repeat(30)}] - ETA: 0s`);
  });

  it("ends a finished epoch with the full bar, its time and the time per step", () => {
    expect(formatBarLine(1719, 1719, 2.4, { loss: 0.5, val_accuracy: 0.8 })).toBe(
      `1719/1719 [${"=".repeat(30)}] - 2s 1ms/step - loss: 0.5000 - val_accuracy: 0.8000`,
    );
  });

  it.each([
    [1, 30, ">"],
    [15, 30, "==============>"],
    [29, 30, `${"=".repeat(28)}>`],
  ])("bar at %i/%i starts with %s", (done, total, head) => {
    const bar = kerasBar(done, total);
    expect(bar).toHaveLength(30);
    expect(bar.startsWith(head)).toBe(true);
    expect(bar.slice(head.length)).toMatch(/^\.*$/);
  });
});

describe("throttle", () => {
  it("lets one call through per interval, the first at once", () => {
    let t = 0;
    const due = throttle(250, () => t);
    const passed: number[] = [];
    for (t = 0; t <= 1000; t += 10) if (due()) passed.push(t);
    expect(passed).toEqual([0, 250, 500, 750, 1000]);
  });
});

describe("liveProgress against a fake display", () => {
  function run(batchMs: number, steps = params.steps) {
    let t = 0;
    const displays = fakeDisplays();
    const renders: Record<string, number[]>[] = [];
    const live = liveProgress({
      newDisplay: displays.newDisplay,
      now: () => t,
      curves: async (h) => {
        renders.push(h);
        return { svg: `<svg data-epochs="${h.loss!.length}"/>` };
      },
    })!;
    return { live, displays, renders, tick: () => (t += batchMs), steps };
  }

  it("redraws the bar a few times a second, not once per batch", async () => {
    const { live, displays, tick } = run(2); // 1719 batches of 2 ms: 3.4 s
    await live.onTrainBegin!(params);
    await live.onEpochBegin!(0);
    for (let b = 0; b < params.steps; b++) {
      tick();
      await live.onBatchEnd!(b, { batch: b, size: 32, loss: 2 - b / params.steps, accuracy: b / params.steps });
    }
    const log = displays.made[0]!;
    // 3.4 s at one redraw per 250 ms: about 14 bar redraws, plus the one at the epoch's start.
    expect(log.texts.length).toBeGreaterThanOrEqual(13);
    expect(log.texts.length).toBeLessThanOrEqual(16);
    expect(log.last).toMatch(/^Epoch 1\/2\n1\d{3}\/1719 \[=+>?\.*\] - ETA: \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
  });

  it("keeps one line per finished epoch with its validation metrics and redraws the curves in a second output", async () => {
    const { live, displays, renders, tick } = run(1);
    await live.onTrainBegin!(params);
    for (let epoch = 0; epoch < 2; epoch++) {
      await live.onEpochBegin!(epoch);
      for (let b = 0; b < params.steps; b++) {
        tick();
        await live.onBatchEnd!(b, { batch: b, size: 32, loss: 0.5, accuracy: 0.8 });
      }
      await live.onEpochEnd!(epoch, { loss: 0.5 - epoch / 10, accuracy: 0.8, val_loss: 0.45, val_accuracy: 0.83 });
    }
    await live.onTrainEnd!({ epoch: [0, 1], history: {}, params, stopped: false });
    const [log, curves] = displays.made;
    expect(displays.made).toHaveLength(2);
    expect(log!.last.split("\n")).toEqual([
      "Epoch 1/2",
      `1719/1719 [${"=".repeat(30)}] - 2s 1ms/step - loss: 0.5000 - accuracy: 0.8000 - val_loss: 0.4500 - val_accuracy: 0.8300`,
      "Epoch 2/2",
      `1719/1719 [${"=".repeat(30)}] - 2s 1ms/step - loss: 0.4000 - accuracy: 0.8000 - val_loss: 0.4500 - val_accuracy: 0.8300`,
    ]);
    // The last render drew both epochs, into the same output.
    expect(renders.at(-1)!.loss).toEqual([0.5, 0.4]);
    expect(curves!.images.at(-1)).toEqual({ svg: '<svg data-epochs="2"/>' });
  });

  it("draws short epochs' curves together: at most one render per curvesIntervalMs, the last epoch always drawn", async () => {
    let t = 0;
    const displays = fakeDisplays();
    const renders: number[] = [];
    const live = liveProgress({
      newDisplay: displays.newDisplay,
      now: () => t,
      curvesIntervalMs: 50,
      curves: async (h) => {
        renders.push(h.loss!.length);
        return { svg: "<svg/>" };
      },
    })!;
    await live.onTrainBegin!({ ...params, epochs: 20 });
    for (let epoch = 0; epoch < 20; epoch++) {
      await live.onEpochBegin!(epoch);
      t += 10; // 20 epochs of 10 ms (fake clock), all ending within one real gap
      await live.onEpochEnd!(epoch, { loss: 1 / (epoch + 1), val_loss: 1 });
    }
    await live.onTrainEnd!({ epoch: [], history: {}, params, stopped: false });
    expect(renders.length).toBeLessThan(20);
    expect(renders.at(-1)).toBe(20);
  });

  it("draws the newest history after a slow render, not each epoch in turn, and records each epoch's wait", async () => {
    let t = 0;
    const displays = fakeDisplays();
    const renders: number[] = [];
    const finish: (() => void)[] = [];
    const live = liveProgress({
      newDisplay: displays.newDisplay,
      now: () => t,
      curvesIntervalMs: 0,
      curves: (h) => {
        renders.push(h.loss!.length);
        return new Promise((resolve) => finish.push(() => resolve({ svg: `<svg data-epochs="${h.loss!.length}"/>` })));
      },
    })!;
    await live.onTrainBegin!({ ...params, epochs: 4 });
    const epoch = async (e: number) => {
      await live.onEpochBegin!(e);
      t += 1000;
      await live.onEpochEnd!(e, { loss: 1 / (e + 1) });
    };
    await epoch(0); // the render of epoch 1 starts and hangs
    await new Promise((resolve) => setImmediate(resolve));
    await epoch(1);
    await epoch(2);
    await epoch(3);
    t += 100;
    finish.shift()!(); // epoch 1's curves arrive while epoch 4 has ended
    const end = live.onTrainEnd!({ epoch: [], history: {}, params, stopped: false });
    while (finish.length === 0) await new Promise((resolve) => setImmediate(resolve));
    t += 100;
    finish.shift()!();
    await end;
    // Two renders, not four: the second drew all four epochs at once.
    expect(renders).toEqual([1, 4]);
    expect(displays.made[1]!.images.at(-1)).toEqual({ svg: '<svg data-epochs="4"/>' });
    expect(live.stats.epochLagMs).toEqual([3100, 2200, 1200, 200]);
  });

  it("says training stopped, and which epoch was discarded, when stopped mid-epoch", async () => {
    const { live, displays, tick } = run(1);
    await live.onTrainBegin!(params);
    await live.onEpochBegin!(0);
    for (let b = 0; b < 500; b++) {
      tick();
      await live.onBatchEnd!(b, { batch: b, size: 32, loss: 0.5, accuracy: 0.8 });
    }
    await live.onTrainEnd!({ epoch: [], history: {}, params, stopped: true });
    expect(displays.made[0]!.last).toMatch(
      /^Epoch 1\/2\nTraining stopped during epoch 1 \(batch 500\/1719, discarded\); the 0 completed epoch\(s\) of 2 are kept\.$/,
    );
  });

  it("goes on without curves, saying why, when the renderer fails", async () => {
    const displays = fakeDisplays();
    const live = liveProgress({
      newDisplay: displays.newDisplay,
      curves: () => Promise.reject(new Error("no Chromium at /nowhere")),
    })!;
    await live.onTrainBegin!({ ...params, epochs: 1, steps: 1 });
    await live.onEpochBegin!(0);
    await live.onEpochEnd!(0, { loss: 0.5 });
    await live.onTrainEnd!({ epoch: [0], history: {}, params, stopped: false });
    expect(displays.made).toHaveLength(1);
    expect(displays.made[0]!.last).toMatch(/\(learning curves not shown: no Chromium at \/nowhere\)$/);
  });

  it("is undefined outside a kernel when no display is given", () => {
    expect(liveProgress()).toBeUndefined();
  });
});

describe("train() with the live view", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("shows the final epoch lines and the curves of every epoch", async () => {
    const n = 64;
    const x = new Float32Array(n * 784).map((_, i) => (i % 7) / 7);
    const y = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const data = { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
    const displays = fakeDisplays();
    const live = liveProgress({ newDisplay: displays.newDisplay, curves: async (h) => ({ svg: `<svg n="${h.loss!.length}"/>` }) })!;
    const model = createModel({ hiddenUnits: [8], learningRate: 0.05, seed: 7 });
    const history = await train(
      model,
      { train: data, valid: data },
      { epochs: 3, batchSize: 16, seed: 1 },
      { progress: "none", callbacks: live },
    );
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(displays.made[0]!.last.match(/^4\/4 \[=+\] - \d+s \d+(us|ms)\/step - loss: .* - val_accuracy: \d\.\d{4}$/gm)).toHaveLength(3);
    expect(displays.made[1]!.images.at(-1)).toEqual({ svg: '<svg n="3"/>' });
    model.dispose();
  });
});
