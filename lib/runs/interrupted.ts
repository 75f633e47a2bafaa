import { UserError } from "../errors/user-error";
// The error a stopped run, search or sweep ends with; its own module so the CLI's exit-code table loads no training code.

/** Training stopped by Ctrl-C / SIGTERM / Jupyter's interrupt; the last completed epoch is checkpointed. */
export class TrainingInterrupted extends UserError {
  override name = "TrainingInterrupted";
  constructor(
    message: string,
    /** The signal that stopped it (undefined: a callback set model.stopTraining). */
    readonly signal?: NodeJS.Signals,
  ) {
    super(message);
  }
}
