import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { PEER_SCRIPT, PEER_THREADS, peerCannotMirror, peerSpec } from "../../lib/bench/peer";
import { projectPath } from "../../lib/io/paths";

describe("the spec the node side sends the PyTorch peer", () => {
  it("carries the tutorial configuration when nothing is overridden", () => {
    const spec = peerSpec(resolveConfig({ epochs: 1 }), "/tmp/order.u32");
    expect(spec).toMatchObject({
      order_file: "/tmp/order.u32",
      epochs: 1,
      batch_size: 32,
      validation_size: 5000,
      normalize: "scale",
      hidden_units: [300, 100],
      activation: "relu",
      initializer: "glorot_uniform",
      batch_norm: false,
      dropout: 0,
      l2: 0,
      optimizer: "sgd",
      learning_rate: 0.01,
      momentum: 0,
      nesterov: false,
      weight_decay: null,
      clip_norm: null,
      clip_value: null,
      seed: 42,
      threads: PEER_THREADS,
    });
    expect(spec.data_dirs[0]).toBe(projectPath("data"));
  });

  it("carries every --set override the node rows train with", () => {
    const config = resolveConfig({
      optimizer: "sgd",
      momentum: 0.9,
      nesterov: true,
      activation: "selu",
      initializer: "lecun_normal",
      normalize: "standardize",
      batchNorm: "before",
      dropout: 0.2,
      l2: 1e-4,
      hiddenUnits: [64, 64, 32],
      learningRate: 0.001,
      batchSize: 64,
      clipNorm: 1,
    });
    expect(peerSpec(config, "o")).toMatchObject({
      optimizer: "sgd",
      momentum: 0.9,
      nesterov: true,
      activation: "selu",
      initializer: "lecun_normal",
      normalize: "standardize",
      batch_norm: "before",
      dropout: 0.2,
      l2: 1e-4,
      hidden_units: [64, 64, 32],
      learning_rate: 0.001,
      batch_size: 64,
      clip_norm: 1,
      clip_value: null,
    });
    expect(peerSpec(resolveConfig({ optimizer: "adamw", weightDecay: 0.01 }), "o").weight_decay).toBe(0.01);
  });

  it("names exactly the keys bench/pytorch_peer.py reads (itself and the data module it shares with the Keras peer)", () => {
    const script = [PEER_SCRIPT, "bench/fashion_mnist_files.py"].map((f) => fs.readFileSync(projectPath(f), "utf8")).join("\n");
    const read = new Set([...script.matchAll(/spec\["(\w+)"\]/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual(Object.keys(peerSpec(resolveConfig({}), "o")).sort());
  });
});

describe("which configs the peer can run side by side", () => {
  it("mirrors the optimizer, activation, init, BN, dropout, l2, clipping and standardization", () => {
    for (const overrides of [
      {},
      { optimizer: "adam" as const, dropout: 0.2, batchNorm: true },
      { optimizer: "nadam" as const, activation: "gelu" as const, initializer: "he_normal" as const, l2: 0.01 },
      { optimizer: "rmsprop" as const, momentum: 0.5, clipValue: 0.5, normalize: "standardize" as const },
    ])
      expect(peerCannotMirror(resolveConfig(overrides))).toBeUndefined();
  });

  it("names the field it cannot mirror", () => {
    expect(peerCannotMirror(resolveConfig({ lrSchedule: { type: "exponential", decaySteps: 100, decayRate: 0.5 } }))).toMatch(
      /does not mirror lrSchedule \(set by --set\)/,
    );
    expect(peerCannotMirror(resolveConfig({ patience: 2 }))).toMatch(/does not mirror patience/);
  });
});
