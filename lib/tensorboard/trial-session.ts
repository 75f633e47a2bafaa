// A search or sweep trial as an HParams session: its run folder's logs/ (beside the train/ and validation/ runs
// the trial's training writes) gets the session start with the hyperparameters, the objective per epoch as a
// scalar, and the session end with the status, so TensorBoard's HParams tab lists, sorts and filters the trials.
import * as path from "node:path";
import { type HParamValue, type SessionStatus, writeSessionEnd, writeSessionStart } from "./hparams";
import { EventFileWriter } from "./writer";

/** What the search knows of a trial each time its status changes (its trial.json). */
export interface TrialRecord {
  /** The trial's hyperparameters as the search sampled them; arrays and objects are shown as JSON text. */
  params: Record<string, unknown>;
  /** The search's status: running, completed, pruned, failed, pending. */
  status: string;
  /** The objective's name (a history key such as val_accuracy) and its value after each epoch so far. */
  objective: string;
  history: readonly number[];
}

// One writer per trial folder in this process: the file is appended to as epochs come in, and a trial continued
// later (Hyperband, another worker) opens a new file, whose session start TensorBoard takes as the session's.
const sessions = new Map<string, { writer: EventFileWriter; written: number }>();

const ENDED: Record<string, SessionStatus> = { completed: "success", pruned: "success", failed: "failure" };

/**
 * Writes what is new of `trial` into `<trialDir>/logs`: the session start the first time, the objective of the
 * epochs not yet written (step = epoch, 0-based, as the epoch scalars), and the session end when the trial ended.
 * A pruned trial ends as a success: it stopped because it was worse, not because it broke.
 */
export function recordTrialSession(trialDir: string, trial: TrialRecord): void {
  const logDir = path.join(trialDir, "logs");
  let session = sessions.get(logDir);
  if (!session) {
    session = { writer: new EventFileWriter(logDir), written: 0 };
    sessions.set(logDir, session);
    writeSessionStart(session.writer, hparamValues(trial.params), "");
  }
  for (; session.written < trial.history.length; session.written++) {
    const value = trial.history[session.written]!;
    if (Number.isFinite(value)) session.writer.scalar(trial.objective, value, session.written);
  }
  const ended = ENDED[trial.status];
  if (ended) {
    writeSessionEnd(session.writer, ended);
    session.writer.close();
    sessions.delete(logDir);
  } else {
    session.writer.flush();
  }
}

function hparamValues(params: Record<string, unknown>): Record<string, HParamValue> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? v : JSON.stringify(v),
    ]),
  );
}
