import type { Command } from "commander";

/** `export` and `import`: a run's model to Keras 3's .keras archive, and a Keras model (.keras or .h5) into a run folder. */
export function registerKeras(program: Command): void {
  program
    .command("export")
    .description("write a run's trained model as a Keras 3 archive (model.keras) that keras.models.load_model opens")
    .argument("<run>", "run folder, e.g. runs/20261125-101619")
    .requiredOption("--out <file>", "the archive to write, ending in .keras")
    .action(async (dir: string, opts: { out: string }) => {
      const { existingRun } = await import("../../runs/run");
      const { exportRunToKeras } = await import("../../runs/keras-run");
      const written = await exportRunToKeras(existingRun(dir), opts.out);
      const o = written.optimizer;
      const state = "iterations" in o ? `with the optimizer's state after ${o.iterations} steps` : `without optimizer state (${o.missing})`;
      console.log(`export: ${written.file} (${written.layers} layers, ${state}); in Python: keras.models.load_model("${opts.out}")`);
    });
  program
    .command("import")
    .description("turn a Keras model (.keras archive, or the .h5 of TF 2.x's model.save) into a run folder")
    .argument("<model>", "model.keras or model.h5")
    .requiredOption("--out <dir>", "the run folder to write")
    .option("--force", "overwrite an existing non-empty run folder")
    .action(async (file: string, opts: { out: string; force?: boolean }) => {
      const { importKerasRun } = await import("../../runs/keras-run");
      const run = await importKerasRun(file, opts.out, { force: opts.force });
      console.log(`import: ${run.dir}; next: fashion-ann evaluate ${opts.out}, or fine-tune with train --resume ${opts.out} --epochs N`);
    });
}
