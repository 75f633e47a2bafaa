import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../io/atomic";
import type { Objective } from "../core/objective";
import type { SearchSpace } from "../core/space";
import type { TrialRecord } from "../core/study";
import { optunaJournal } from "./optuna-journal";
import { studyCsv } from "./study-csv";

/** What `search --export DIR` wrote. */
export interface StudyExport {
  csv: string;
  journal: string;
  /** The Python lines that open the journal in Optuna. */
  loadWith: string;
}

/**
 * Writes the study for Python users into `dir`: study.csv (pandas) and optuna-journal.log (Optuna's JournalStorage),
 * each atomically. An existing journal is replaced, not appended to: it always holds this study as it is now.
 */
export function exportStudy(
  dir: string,
  name: string,
  space: SearchSpace,
  objective: Objective,
  trials: readonly TrialRecord[],
): StudyExport {
  fs.mkdirSync(dir, { recursive: true });
  const csv = path.join(path.resolve(dir), "study.csv");
  const journal = path.join(path.resolve(dir), "optuna-journal.log");
  writeFileAtomic(csv, studyCsv(space, objective, trials));
  writeFileAtomic(journal, optunaJournal(name, space, objective, trials));
  const loadWith = [
    "import optuna",
    "from optuna.storages import JournalStorage",
    "from optuna.storages.journal import JournalFileBackend",
    `study = optuna.load_study(study_name=${JSON.stringify(name)}, storage=JournalStorage(JournalFileBackend(${JSON.stringify(journal)})))`,
  ].join("\n");
  return { csv, journal, loadWith };
}
