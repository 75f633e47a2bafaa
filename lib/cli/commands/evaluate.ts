import type { Command } from "commander";
import { resolveConfig, type ExperimentConfig } from "../../config";

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
      const config = resolveConfig(run.readJson<ExperimentConfig>("config.json"));
      const backend = await initBackend(config);
      console.log(formatBackend(backend));
      const model = await run.loadModel();
      const { test } = await loadData(config);
      const metrics = { ...evaluate(model, test), backend: backend.name };
      run.writeJson("metrics.json", metrics);
      console.log(JSON.stringify(metrics));
    });
}
