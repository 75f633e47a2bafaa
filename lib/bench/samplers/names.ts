/**
 * The sampler benchmark's objectives by the name `bench --samplers --objectives` takes; a module of its own so the
 * CLI can check the flag without loading the objectives (the Fashion-MNIST one loads the engine).
 */
export const SAMPLER_OBJECTIVES = ["branin", "hartmann6", "fashion"] as const;
export type SamplerObjectiveName = (typeof SAMPLER_OBJECTIVES)[number];
