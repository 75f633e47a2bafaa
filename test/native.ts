import type * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
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
