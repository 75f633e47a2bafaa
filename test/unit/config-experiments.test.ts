import { describe, expect, it } from "vitest";
import { collectSet, overridesWithSet, withConfigFlags } from "../../lib/cli/flags";
import { resolveConfig } from "../../lib/config";
import { createModel } from "../../lib/model/factory";
import { Command } from "commander";

const env = {};

describe("chapter 11 config fields", () => {
  it.each([
    [{ nesterov: true }, /nesterov: true needs momentum > 0.*got momentum 0/],
    [{ optimizer: "adam", momentum: 0.9 }, /momentum: applies only to optimizer "sgd" or "rmsprop", got momentum 0.9 with "adam"/],
    [{ dropout: 1 }, /dropout: dropout must be below 1.*got 1/],
    [{ optimizer: "adagrad", weightDecay: 0.01 }, /weightDecay: applies only to optimizer "adamw"/],
    [{ clipNorm: 1, clipValue: 0.5 }, /clipNorm and clipValue: set one of them/],
    [
      { lrSchedule: { type: "piecewise", boundaries: [10, 20], values: [0.1, 0.01] } },
      /lrSchedule\.values: piecewise needs one more value than boundaries, got 2 values for 2 boundaries/,
    ],
    [{ optimizer: "adamm" }, /optimizer: .*got "adamm"/],
    [{ activation: "softplus" }, /activation: .*got "softplus"/],
  ] as const)("refuses %j with one sentence", (overrides, message) => {
    expect(() => resolveConfig(overrides as never, env)).toThrow(message);
  });

  it("flags and --set reach every field", () => {
    const cmd = withConfigFlags(new Command()).option("--set <kv>", "", collectSet).exitOverride();
    cmd.parse(
      [
        "--activation",
        "selu",
        "--initializer",
        "lecun_normal",
        "--batch-norm",
        "--dropout",
        "0.2",
        "--l2",
        "0.01",
        "--optimizer",
        "sgd",
        "--momentum",
        "0.9",
        "--nesterov",
        "--clip-norm",
        "1",
        "--normalize",
        "standardize",
        "--lr-schedule",
        '{"type":"exponential","decaySteps":100,"decayRate":0.1}',
        "--set",
        'batchNorm="before"',
      ],
      { from: "user" },
    );
    expect(() => overridesWithSet(cmd.opts())).toThrow(/batchNorm given both as a flag and with --set/);
    const { set: _set, ...flags } = cmd.opts();
    const c = resolveConfig(overridesWithSet(flags), env);
    expect(c).toMatchObject({
      activation: "selu",
      initializer: "lecun_normal",
      batchNorm: true,
      dropout: 0.2,
      l2: 0.01,
      momentum: 0.9,
      nesterov: true,
      clipNorm: 1,
      normalize: "standardize",
    });
    expect(c.lrSchedule).toEqual({ type: "exponential", decaySteps: 100, decayRate: 0.1 });
  });

  it("builds the layers Géron's chapter 11 shows, with Keras's names", () => {
    const names = (o: object) => createModel({ hiddenUnits: [4, 3], learningRate: 0.01, seed: 1, ...o }).layers.map((l) => l.name);
    expect(names({ batchNorm: true, dropout: 0.2 })).toEqual([
      "flatten",
      "dense",
      "batch_normalization",
      "dropout",
      "dense_1",
      "batch_normalization_1",
      "dropout_1",
      "dense_2",
    ]);
    expect(names({ batchNorm: "before", activation: "elu" })).toEqual([
      "flatten",
      "dense",
      "batch_normalization",
      "activation",
      "dense_1",
      "batch_normalization_1",
      "activation_1",
      "dense_2",
    ]);
    expect(names({ activation: "leaky_relu" })).toEqual(["flatten", "dense", "leaky_re_lu", "dense_1", "leaky_re_lu_1", "dense_2"]);
    const m = createModel({ hiddenUnits: [4], learningRate: 0.01, seed: 1, optimizer: "nadam", l2: 0.01 });
    expect(m.optimizer.getClassName()).toMatch(/Nadam/);
    expect(m.getLayer("dense").getConfig().kernelRegularizer).toBeTruthy();
    m.dispose();
  });
});
