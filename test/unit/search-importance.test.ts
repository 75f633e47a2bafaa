import { describe, expect, it } from "vitest";
import { paramImportances } from "../../lib/search/analysis/importance";
import { normalMass } from "../../lib/search/analysis/normal";
import { seededSource } from "../../lib/search/samplers/random";

// 10·x1 + x2 + 0·x3 over uniform draws: x1 moves the objective ten times more than x2, x3 not at all.
function linearTrials(n: number, seed: number) {
  const rand = seededSource(seed);
  return Array.from({ length: n }, () => {
    const x1 = rand();
    const x2 = rand();
    const x3 = rand();
    return { params: { x1, x2, x3 }, value: 10 * x1 + x2 + 0 * x3 };
  });
}
const unit = { kind: "float", low: 0, high: 1, log: false } as const;
const domains = { x1: unit, x2: unit, x3: unit };

describe("paramImportances (PED-ANOVA)", () => {
  it("ranks 10·x1 + x2 + 0·x3 as x1, x2, x3: x1 first in every study, x2 above x3 on average over 20 studies", () => {
    // In one study of 200 trials the top 20 decide; x2 shifts them only 3:1 across its range, so sampling noise on
    // x3 can pass it in a single study (it did in 6 of 20 when measured); the mean over studies cannot be fooled.
    const sum = { x1: 0, x2: 0, x3: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      const imp = paramImportances(linearTrials(200, seed), domains, "min");
      expect(Object.keys(imp)[0]).toBe("x1");
      for (const k of ["x1", "x2", "x3"] as const) sum[k] += imp[k]! / 20;
    }
    expect(sum.x1).toBeGreaterThan(0.8);
    expect(sum.x2).toBeGreaterThan(2 * sum.x3);
  });

  it("sums to 1, and follows the direction: maximising the same function puts the good trials at x1 near 1", () => {
    const trials = linearTrials(200, 4);
    const imp = paramImportances(trials, domains, "max");
    expect(Object.values(imp).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(Object.keys(imp)[0]).toBe("x1");
  });

  it("treats a choice by its values and a log range on a log grid", () => {
    const rand = seededSource(9);
    const trials = Array.from({ length: 120 }, () => {
      const lr = 10 ** (-4 + 3 * rand());
      const opt = ["sgd", "adam", "nadam"][Math.floor(rand() * 3)]!;
      return { params: { lr, opt }, value: Math.abs(Math.log10(lr) + 2) + (opt === "adam" ? 0 : 0.05) };
    });
    const imp = paramImportances(
      trials,
      { lr: { kind: "float", low: 1e-4, high: 0.1, log: true }, opt: { kind: "categorical", choices: ["sgd", "adam", "nadam"] } },
      "min",
    );
    expect(Object.keys(imp)).toEqual(["lr", "opt"]);
  });

  it("gives equal shares when there is nothing to compare (one trial)", () => {
    expect(paramImportances([{ params: { x1: 0.5, x2: 0.1 }, value: 1 }], { x1: unit, x2: unit }, "min")).toEqual({ x2: 0.5, x1: 0.5 });
  });
});

describe("normalMass", () => {
  it("matches known values of the standard normal, in the tails too", () => {
    expect(normalMass(-1.959963984540054, 1.959963984540054)).toBeCloseTo(0.95, 12);
    expect(normalMass(-Infinity, 0)).toBeCloseTo(0.5, 14);
    // P(Z > 8) = 6.22096057427178e-16
    expect(normalMass(8, Infinity) / 6.22096057427178e-16).toBeCloseTo(1, 8);
    expect(normalMass(0.5, 1.5) - normalMass(-1.5, -0.5)).toBeCloseTo(0, 15);
  });
});
