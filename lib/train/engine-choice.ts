import * as tf from "@tensorflow/tfjs";
import { type BackendInfo, initBackend } from "../engine/backend";
import { NATIVE_BACKEND, type NativeDenseStep, nativeDenseStep } from "../engine/native";
import { planDenseStack } from "../model/dense-stack";

/*
 * Which engine a train() call trains on, decided once before its first batch and returned with its history:
 * the native engine's fused step, the written-out Dense step on tfjs kernels, or tfjs's generic per-op step.
 * On the native backend a model the fused step does not cover moves to wasm, and the choice says so.
 */

/** A model train() moved off the backend chosen at start: from, to (its BackendInfo) and why. */
export interface BackendSwitch {
  from: string;
  to: BackendInfo;
  reason: string;
}

/** The engine a run trained on. */
export interface TrainingEngine {
  /** "native": the fused native step; "dense": the written-out Dense step; "generic": tf.variableGrads per op. */
  step: "native" | "dense" | "generic";
  /** The tfjs backend active while it trained. */
  backend: string;
  /** Why neither fast step covers the model (model/dense-stack.ts's reason), or why the native step refused it. */
  reason?: string;
  /** Set when the model was moved off the backend chosen at start (environment.json then names both). */
  switched?: BackendSwitch;
}

/** The settings of the native step that come from the run's config. */
export interface EngineSettings {
  batchSize: number;
  seed: number;
  clipNorm?: number | null;
  clipValue?: number | null;
}

/*
 * What a model the fast steps do not cover costs: Dense(300, selu) -> Dropout -> BN -> Dense(100, selu) -> Dropout ->
 * BN -> Dense(10) with Adam, batch 32, before the plan covered a Dropout before a BN, trained with wasm's per-op step at
 * 38-63 ms/step against 4.4-7.6 ms/step on the native step once covered: 5-11x, median 8.4x over three interleaved
 * pairs (issue 19's note; a 2-core machine shared with other jobs, load 18-22, 1 thread each).
 */
const FALLBACK_COST = "about 8x slower than the native engine";

// Layers whose backward pass tfjs's wasm backend has kernels for (the tutorial's and chapter 11's).
const WASM_TRAINS = new Set(["InputLayer", "Flatten", "Reshape", "Dense", "Dropout", "BatchNormalization", "Activation", "LeakyReLU"]);

const notesSaid = new Set<string>();

/**
 * The engine for `model`: the fused native step when the native backend runs and covers it; else the model
 * trains with a tfjs step, on wasm when the native backend cannot train it (wasm's elementwise kernels are far
 * faster than the cpu ones the native backend inherits; tfjs moves the variables over on first use). The
 * reason a model falls back is said once per process, with its cost.
 */
export async function chooseEngine(
  model: tf.LayersModel,
  settings: EngineSettings,
): Promise<{ engine: TrainingEngine; native: NativeDenseStep | null }> {
  if (tf.getBackend() !== NATIVE_BACKEND) return { engine: tfjsEngine(model), native: null };
  const choice = nativeDenseStep(model, {
    maxBatch: settings.batchSize,
    clipnorm: settings.clipNorm ?? undefined,
    clipvalue: settings.clipValue ?? undefined,
    seed: settings.seed,
  });
  if (choice.step) return { engine: { step: "native", backend: NATIVE_BACKEND }, native: choice.step };
  const moved = await moveOffNative(model, choice.reason);
  const engine = { ...tfjsEngine(model), reason: choice.reason, ...(moved.switched && { switched: moved.switched }) };
  const cost = engine.step === "generic" ? ` (${FALLBACK_COST})` : "";
  sayOnce(`native engine: ${choice.reason}; ${moved.note}${cost}`);
  return { engine, native: null };
}

/** The tfjs step trainStep will pick on the current backend. */
function tfjsEngine(model: tf.LayersModel): TrainingEngine {
  const plan = planDenseStack(model);
  const backend = tf.getBackend();
  return typeof plan === "string" ? { step: "generic", backend, reason: plan } : { step: "dense", backend };
}

/** Where a model the fused step does not cover trains instead (wasm where it can), said as the note ends. */
async function moveOffNative(model: tf.LayersModel, reason: string): Promise<{ note: string; switched?: BackendSwitch }> {
  // tfjs's wasm backend lacks some gradient kernels (Conv2DBackpropFilter, MaxPoolGrad): a hand-built CNN stays here.
  const foreign = model.layers.find((l) => !WASM_TRAINS.has(l.getClassName()));
  if (foreign)
    return { note: `this model trains with the tfjs step on the native backend (wasm cannot train its ${foreign.getClassName()} layer)` };
  try {
    const info = await initBackend({ backend: "wasm" });
    return { note: `this model trains on ${info.name} instead`, switched: { from: NATIVE_BACKEND, to: info, reason } };
  } catch (err) {
    return {
      note: `this model trains with the tfjs step on the native backend (wasm did not start: ${(err as Error).message.split("\n")[0]})`,
    };
  }
}

function sayOnce(note: string): void {
  if (notesSaid.has(note)) return;
  notesSaid.add(note);
  console.log(note);
}
