import type { Command } from "commander";

export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("evaluate a run's trained model on the test set and update its metrics.json")
    .argument("<run>", "run folder, e.g. runs/20261125-101619")
    .action(async (dir: string) => {
      const { existingRun } = await import("../../runs/run");
      const { formatBackend, initBackend } = await import("../../engine/backend");
      const { evaluate } = await import("../../results/evaluate");
      const { loadData } = await import("../../runs/experiment");
      const run = existingRun(dir);
      const { asModelInput, readRunConfig } = await import("../../runs/custom-run");
      // A hand-built or imported model's config.json marks its architecture "custom"; its data fields are the known ones.
      const { config } = readRunConfig(run);
      const backend = await initBackend(config);
      console.log(formatBackend(backend));
      const model = await run.loadModel();
      const { test } = await loadData(config);
      const metrics = { ...evaluate(model, { x: asModelInput(model, test.x), y: test.y }), backend: backend.name };
      run.writeJson("metrics.json", metrics);
      console.log(JSON.stringify(metrics));
    });
}
