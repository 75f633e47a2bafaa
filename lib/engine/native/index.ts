/*
 * The native engine: an N-API addon over BLAS (native/, built by setup), a tfjs backend "native" whose
 * matrix products run on it, and a fused training step for Dense stacks. Everything degrades to a
 * one-sentence reason when the addon is not built, so the backend choice can fall back and say why.
 */
export { loadAddon } from "./addon";
export { NATIVE_BACKEND, registerNativeBackend } from "./backend";
export { latestNativeCounters, nativeDenseStep, type NativeDenseStep } from "./step";
