import { describe, expect, it } from "vitest";
import { LrSchedule, type PiecewiseSchedule } from "../../lib/config/schedules";
import { type PlateauState, ReduceLrOnPlateau, scheduledLearningRate } from "../../lib/train/schedules";

const TOTAL = 1000;

describe("scheduledLearningRate: exponential (Keras ExponentialDecay)", () => {
  const schedule = LrSchedule.parse({ type: "exponential", decaySteps: 100, decayRate: 0.1 });
  it.each([
    [0, 0.01],
    [50, 0.01 * Math.sqrt(0.1)],
    [100, 0.001],
    [250, 0.01 * 0.1 ** 2.5],
  ])("at step %i is %f (lr0 0.01, decaySteps 100, decayRate 0.1, no staircase)", (step, expected) => {
    expect(scheduledLearningRate(schedule, 0.01, step, TOTAL)).toBeCloseTo(expected, 15);
  });
});

describe("scheduledLearningRate: piecewise (Keras PiecewiseConstantDecay)", () => {
  const schedule = LrSchedule.parse({ type: "piecewise", boundaries: [10, 20], values: [1, 0.5, 0.1] });
  it.each([
    [0, 1],
    [10, 1], // Keras: step <= boundary keeps the earlier value
    [11, 0.5],
    [20, 0.5],
    [21, 0.1],
    [5000, 0.1],
  ])("at step %i is %f (boundaries [10, 20], values [1, 0.5, 0.1])", (step, expected) => {
    expect(scheduledLearningRate(schedule, 0.01, step, TOTAL)).toBe(expected);
  });

  it("throws on a hand-built schedule with mismatched lengths, naming both", () => {
    const bad = { type: "piecewise", boundaries: [10, 20], values: [1, 0.5] } as PiecewiseSchedule;
    expect(() => scheduledLearningRate(bad, 0.01, 0, TOTAL)).toThrow(/got 2 values for 2 boundaries/);
  });
});

describe("scheduledLearningRate: one_cycle (Géron's OneCycleScheduler)", () => {
  // iterations 100: start 0.01, last_iterations 11, half_iteration 44, last rate 1e-5.
  const schedule = LrSchedule.parse({ type: "one_cycle", maxLearningRate: 0.1 });
  const lr = (step: number): number => scheduledLearningRate(schedule, 0.5, step, 100);

  it.each([
    [0, 0.01],
    [22, 0.055],
    [44, 0.1],
    [66, 0.055],
    [88, 0.01],
    [94, 0.01 - (0.00999 * 6) / 12],
    [99, 0.01 - (0.00999 * 11) / 12],
    [100, 1e-5],
    [150, 1e-5],
  ])("at step %i of 100 is %f (max 0.1)", (step, expected) => {
    expect(lr(step)).toBeCloseTo(expected, 12);
  });

  it("rises to its peak at half_iteration, falls back to the start rate, then to start/1000", () => {
    const rates = Array.from({ length: 100 }, (_, s) => lr(s));
    const peak = rates.indexOf(Math.max(...rates));
    expect(peak).toBe(44);
    for (let s = 1; s <= 44; s++) expect(rates[s]!).toBeGreaterThan(rates[s - 1]!);
    for (let s = 45; s < 100; s++) expect(rates[s]!).toBeLessThan(rates[s - 1]!);
    expect(Math.min(...rates)).toBeGreaterThan(1e-5);
  });

  it("ignores the base learning rate", () => {
    expect(scheduledLearningRate(schedule, 123, 44, 100)).toBe(0.1);
  });

  it("covers a run of a single step", () => {
    // iterations 1: half_iteration 0, so the only step is the start of the final ramp.
    expect(scheduledLearningRate(schedule, 0.5, 0, 1)).toBeCloseTo(0.01, 15);
  });
});

describe("scheduledLearningRate: constant and plateau", () => {
  it.each([[null], [undefined], [LrSchedule.parse({ type: "reduce_on_plateau", factor: 0.5, patience: 5 })]])(
    "returns the base rate for %o",
    (schedule) => {
      expect(scheduledLearningRate(schedule, 0.03, 77, TOTAL)).toBe(0.03);
    },
  );

  it.each([
    [-1, TOTAL, /^scheduledLearningRate: step must be a whole number >= 0, got -1$/],
    [1.5, TOTAL, /^scheduledLearningRate: step must be a whole number >= 0, got 1.5$/],
    [0, 0, /^scheduledLearningRate: totalSteps must be a whole number >= 1, got 0$/],
  ])("refuses step %d of %d", (step, total, message) => {
    expect(() => scheduledLearningRate(null, 0.01, step, total)).toThrow(message);
  });
});

describe("LrSchedule schema", () => {
  function issues(input: unknown): string[] {
    const result = LrSchedule.safeParse(input);
    expect(result.success).toBe(false);
    return result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  }

  it("rejects piecewise lengths that do not match, naming both lengths", () => {
    expect(issues({ type: "piecewise", boundaries: [100], values: [0.1, 0.01, 0.001] })).toEqual([
      expect.stringMatching(/^values: piecewise needs one more value than boundaries, got 3 values for 1 boundaries$/),
    ]);
  });

  it("rejects boundaries that do not increase", () => {
    expect(issues({ type: "piecewise", boundaries: [100, 100], values: [1, 2, 3] })).toEqual([
      expect.stringMatching(/^boundaries: piecewise boundaries must be strictly increasing, got \[100, 100\]$/),
    ]);
  });

  it.each([
    [{ type: "exponential", decaySteps: 10, decayRate: 0.1, staircase: true }, /Unrecognized key.*staircase/],
    [{ type: "exponential", decaySteps: 2.5, decayRate: 0.1 }, /^decaySteps: .*int/],
    [{ type: "exponential", decaySteps: 10, decayRate: 0 }, /^decayRate: .*>0/],
    [{ type: "piecewise", boundaries: [1.5], values: [1, 2] }, /^boundaries.0: .*int/],
    [{ type: "one_cycle", maxLearningRate: -1 }, /^maxLearningRate: .*>0/],
    [{ type: "reduce_on_plateau", factor: 1, patience: 5 }, /^factor: .*<1/],
    [{ type: "reduce_on_plateau", factor: 0.5 }, /^patience: .*number/],
    [{ type: "cosine" }, /^type: .*exponential.*piecewise.*one_cycle.*reduce_on_plateau/i],
  ])("rejects %o", (input, message) => {
    expect(issues(input).join("\n")).toMatch(message);
  });

  it("fills ReduceLROnPlateau's Keras defaults (min_delta 1e-4, cooldown 0, min_lr 0)", () => {
    expect(LrSchedule.parse({ type: "reduce_on_plateau", factor: 0.5, patience: 5 })).toEqual({
      type: "reduce_on_plateau",
      factor: 0.5,
      patience: 5,
      minDelta: 1e-4,
      cooldown: 0,
      minLearningRate: 0,
    });
  });
});

describe("ReduceLrOnPlateau", () => {
  const reduced = Math.fround(Math.fround(0.01) * 0.5);

  it("halves the rate after 2 epochs without a val_loss better by more than 1e-4 (factor 0.5, patience 2)", () => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    const lrs = [1.0, 0.9, 0.89995, 0.92, 0.91, 0.85].map((loss) => plateau.onEpochEnd(loss));
    // 0.89995 is not below 0.9 - 1e-4, so it is the first bad epoch; 0.92 the second.
    expect(lrs).toEqual([0.01, 0.01, 0.01, reduced, reduced, reduced]);
  });

  it("counts NaN as an epoch without improvement", () => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 1 }, 0.01);
    plateau.onEpochEnd(1);
    expect(plateau.onEpochEnd(Number.NaN)).toBe(reduced);
  });

  it.each([
    // Keras decrements the cooldown before it checks it, so cooldown 1 skips nothing and 2 skips one epoch.
    [1, [0.01, reduced, Math.fround(reduced * 0.5), Math.fround(Math.fround(reduced * 0.5) * 0.5)]],
    [2, [0.01, reduced, reduced, Math.fround(reduced * 0.5)]],
  ])("does not count bad epochs during cooldown %i as Keras counts it", (cooldown, expected) => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 1, cooldown }, 0.01);
    expect([1, 2, 2, 2].map((loss) => plateau.onEpochEnd(loss))).toEqual(expected);
  });

  it("stops at minLearningRate", () => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.1, patience: 0, minLearningRate: 0.005 }, 0.01);
    expect([1, 1, 1].map((loss) => plateau.onEpochEnd(loss))).toEqual([0.01, Math.fround(0.005), Math.fround(0.005)]);
  });

  it("state() survives JSON and restore() continues identically", () => {
    const losses = [1, 0.8, 0.85, 0.86, 0.79, 0.8, 0.81, 0.82, 0.83];
    const whole = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    const expected = losses.map((loss) => whole.onEpochEnd(loss));

    const first = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    const head = losses.slice(0, 3).map((loss) => first.onEpochEnd(loss));
    const saved = JSON.parse(JSON.stringify(first.state())) as PlateauState;
    expect(saved).toEqual({ learningRate: 0.01, best: 0.8, wait: 1, cooldownCounter: 0 });
    const resumed = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    resumed.restore(saved);
    expect([...head, ...losses.slice(3).map((loss) => resumed.onEpochEnd(loss))]).toEqual(expected);
  });

  it("state() before any epoch has best null", () => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    expect(plateau.state()).toEqual({ learningRate: 0.01, best: null, wait: 0, cooldownCounter: 0 });
  });

  it("restore() refuses a malformed state, naming the field", () => {
    const plateau = new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0.01);
    expect(() => plateau.restore({ learningRate: 0.01, best: 1, wait: -1, cooldownCounter: 0 })).toThrow(
      /^ReduceLrOnPlateau\.restore: wait: .*>=0/,
    );
  });

  it("refuses a non-positive initial rate", () => {
    expect(() => new ReduceLrOnPlateau({ type: "reduce_on_plateau", factor: 0.5, patience: 2 }, 0)).toThrow(
      /^ReduceLrOnPlateau: initialLearningRate must be a finite number > 0, got 0$/,
    );
  });
});
