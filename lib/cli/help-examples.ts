import type { Command } from "commander";

/**
 * One or two examples per command, printed under its --help. Kept apart from the commands' definitions so each reads
 * as a whole; a command added without examples fails test/unit/cli-help-examples.test.ts.
 */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  train: [
    "fashion-ann train --epochs 10 --out runs/e10                       # the tutorial's model, 10 epochs",
    "fashion-ann train --optimizer nadam --batch-norm --dropout 0.2 --out runs/nadam-bn",
  ],
  evaluate: ["fashion-ann evaluate runs/e10                                   # test loss and accuracy, into metrics.json"],
  predict: [
    "fashion-ann predict runs/e10 shoe.png                             # a 28x28 PNG of your own",
    "fashion-ann predict runs/e10 --test-index 0 --test-index 12 --show-input inputs.png",
  ],
  notebooks: ["fashion-ann notebooks --set epochs=5 --out runs/nb5              # what npm start does, with 5 epochs"],
  compare: ["fashion-ann compare runs/e10 runs/nadam-bn                       # or a study's trials: runs/tune/trials/*/"],
  sweep: ["fashion-ann sweep --grid learning-rate=0.003,0.01,0.03 --epochs 10 --parallel 2 --out runs/sweep-lr"],
  search: [
    "fashion-ann search --space space.json --tuner tpe --pruner median --max-trials 20 --max-epochs 10 --out runs/tune",
    "fashion-ann search --space space.json --tuner hyperband --max-epochs 27 --out runs/hb",
  ],
  "lr-find": ["fashion-ann lr-find --optimizer adam --out runs/lr                 # figures/lr_finder.png and a suggestion"],
  bench: [
    "fashion-ann bench --backends native,wasm,pytorch --epochs 2        # seconds per epoch per engine",
    "fashion-ann bench --latency                                        # what notebook cells and commands wait for",
  ],
  report: ["fashion-ann report runs/e10                                     # runs/e10/report.html and report.pdf"],
  tensorboard: ["fashion-ann tensorboard runs/e10 runs/tune                       # then open http://127.0.0.1:6006"],
  export: ["fashion-ann export runs/e10 --out model.keras                   # keras.models.load_model('model.keras')"],
  import: [
    "fashion-ann import model.keras --out runs/from-keras             # or TF 2.x's model.h5",
    "fashion-ann train --resume runs/from-keras --epochs 3            # then fine-tune it",
  ],
};

/** Adds each command's examples under its --help (after the command's own text). */
export function addHelpExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = HELP_EXAMPLES[command.name()];
    if (examples) command.addHelpText("after", `\nExamples:\n${examples.map((line) => `  ${line}`).join("\n")}`);
  }
}
