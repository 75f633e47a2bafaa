import type * as tf from "@tensorflow/tfjs";
import { expect, it } from "vitest";
import type { AddonLoad } from "../lib/engine/native/addon";
import { type NativeDenseStep, type NativeStepOptions, nativeDenseStep } from "../lib/engine/native/step";

/** The fused native step for `model`; a test that expects it covered fails with the plan's reason. */
export function fusedStep(model: tf.LayersModel, options: NativeStepOptions = {}): NativeDenseStep {
  const choice = nativeDenseStep(model, options);
  if (!choice.step) throw new Error(choice.reason);
  return choice.step;
}

/** Largest |a - b| relative to max(1, largest |b|): float32 agreement for values of any scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0,
    scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/**
 * Whether a file's native tests skip: only when the addon is missing and nothing requires it. Under
 * FASHION_ANN_REQUIRE_ADDON=1 (which .ci/run sets, as does CI=true) a missing or broken addon is a failure:
 * the file gets one failing test that gives the loader's reason, so CI cannot go green by skipping.
 */
export function skipWithoutAddon(load: AddonLoad): boolean {
  if (load.addon) return false;
  if (!addonRequired()) return true;
  it("has the native addon, which FASHION_ANN_REQUIRE_ADDON=1 or CI=true requires", () => {
    expect.fail(`the native tests need the addon: ${load.reason}`);
  });
  return true;
}

export function addonRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FASHION_ANN_REQUIRE_ADDON === "1" || env.CI === "true";
}
