import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { INITIALIZERS, type InitializerName } from "../../lib/config";
import { toKerasLayer } from "../../lib/keras/layers";
import { createModel } from "../../lib/model/factory";
import { kernelInitializer } from "../../lib/model/initializers";

/*
 * Keras 3's kernel initializers, without Keras (test/e2e/keras-layers.test.ts compares with Keras's own draws):
 * variance scale/fan for all six; uniform ones bounded at sqrt(3·variance); normal ones truncated at 2 stddev of a
 * normal whose stddev is sqrt(variance)/0.8796, so the truncated draws keep the variance. tfjs's own normal
 * initializers draw 0.774x that variance, which the 1.5% check refuses.
 */

const FAN_IN = 400;
const FAN_OUT = 200;
const VARIANCE: Record<InitializerName, number> = {
  glorot_uniform: 2 / (FAN_IN + FAN_OUT),
  glorot_normal: 2 / (FAN_IN + FAN_OUT),
  he_normal: 2 / FAN_IN,
  he_uniform: 2 / FAN_IN,
  lecun_normal: 1 / FAN_IN,
  lecun_uniform: 1 / FAN_IN,
};

describe("kernel initializers draw as Keras's", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it.each(INITIALIZERS)("%s: variance scale/fan, Keras's bound, same draws for the same seed", (name) => {
    const draw = (seed: number) => tf.tidy(() => kernelInitializer(name, seed).apply([FAN_IN, FAN_OUT]).dataSync() as Float32Array);
    const w = draw(3);
    const n = w.length;
    const mean = w.reduce((s, v) => s + v, 0) / n;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    const v = VARIANCE[name];
    // 80,000 draws: the sample variance's standard error is under 0.5% for either distribution, so 1.5% is 3+ of them.
    expect(Math.abs(variance / v - 1)).toBeLessThan(0.015);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(v / n));
    const bound = name.endsWith("uniform") ? Math.sqrt(3 * v) : (2 * Math.sqrt(v)) / 0.87962566103423978;
    const max = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
    expect(max).toBeGreaterThan(bound * 0.99);
    expect(Buffer.from(draw(3).buffer).equals(Buffer.from(w.buffer))).toBe(true);
  });

  it.each(INITIALIZERS)("%s: a model exported to Keras names it as Keras does", (name) => {
    const model = createModel({ hiddenUnits: [4], learningRate: 0.01, seed: 1, initializer: name });
    const config = toKerasLayer(model.getLayer("dense")).config as { kernel_initializer: { class_name: string; config: { seed: number } } };
    const keras = name.replace(/(^|_)(\w)/g, (_, _sep: string, c: string) => c.toUpperCase());
    expect(config.kernel_initializer.class_name).toBe(keras);
    expect(config.kernel_initializer.config.seed).toBe(1);
    model.dispose();
  });

  it("refuses a shape that is not a Dense kernel, in one sentence", () => {
    expect(() => kernelInitializer("he_normal", 1).apply([3, 3, 2])).toThrow(
      /^kernel initializer: expected a Dense kernel shape \[fanIn, fanOut\], got \[3, 3, 2\]$/,
    );
  });
});
