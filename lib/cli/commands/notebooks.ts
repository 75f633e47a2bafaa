import type { Command } from "commander";
import { resolveConfig } from "../../config";
import { collectSet, overridesWithSet, runDirFor, withConfigFlags } from "../flags";

export function registerNotebooks(program: Command): void {
  withConfigFlags(program.command("notebooks").description("execute every notebook in order through the tslab kernel, into a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .option("--set <key=value>", "set a config field by name, e.g. --set learningRate=0.05 (repeatable)", collectSet)
    .action(async (opts) => {
      const overrides = overridesWithSet(opts);
      resolveConfig(overrides); // refuse bad values before starting a kernel
      const { createRun } = await import("../../runs/run");
      const { runNotebooks } = await import("../../notebook/execute");
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      const started = performance.now();
      const result = await runNotebooks({ runDir: run.dir, overrides, log: (line: string) => console.log(line) });
      console.log(`executed ${result.notebooks.length} notebooks in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      console.log(`run folder: ${run.dir}`);
    });
}
