import * as path from "node:path";
import { openPglite } from "./pglite";
import { openPostgres } from "./postgres";
import { type SqlDatabase, StudyStorageError } from "./database";
import { SqlStudyStore, type StudyDefinition } from "./sql";
import { migrate } from "./schema";
import { redactUrl, storageUrlProblem } from "./url";

export type { SqlDatabase } from "./database";
export { StudyDatabaseLost, StudyStorageError } from "./database";
export { MIGRATIONS, migrate } from "./schema";
export type { CheckpointFiles, StoredTrial, StudyDefinition } from "./sql";
export { SqlStudyStore } from "./sql";
export { connectionProblem } from "./postgres";

/** The embedded database's folder inside a study folder. */
export const EMBEDDED_DIR = "study.pgdata";

/**
 * The study's database: a postgres:// or postgresql:// URL is a server; nothing means the embedded one in
 * `outDir`/study.pgdata. Throws StudyStorageError with one sentence for a URL of another kind.
 */
async function openDatabase(storage: string | undefined, outDir: string, retrySeconds?: number): Promise<SqlDatabase> {
  if (!storage) return openPglite(path.join(outDir, EMBEDDED_DIR));
  const problem = storageUrlProblem(storage);
  if (problem) throw new StudyStorageError(`--storage ${redactUrl(storage)}: ${problem}`);
  return openPostgres(storage, retrySeconds);
}

/**
 * Opens (creating or joining) a study; a server's lost connection is retried for `retrySeconds` (default 60).
 * `opts`: SqlStudyStore.open's (a growing space, the refusals' remedy).
 */
export async function openStudy(
  storage: string | undefined,
  outDir: string,
  def: StudyDefinition,
  retrySeconds?: number,
  opts: Parameters<typeof SqlStudyStore.open>[2] = {},
): Promise<SqlStudyStore> {
  const db = await openDatabase(storage, outDir, retrySeconds);
  try {
    return await SqlStudyStore.open(db, def, opts);
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Deletes study `name` (its trials and stored checkpoints) from a PostgreSQL server; false when it had none. */
export async function deleteStudy(storage: string, name: string): Promise<boolean> {
  const db = await openDatabase(storage, "");
  try {
    await migrate(db);
    const r = await db.query("DELETE FROM fa_studies WHERE name = $1", [name]);
    return r.rowCount === 1;
  } finally {
    await db.close();
  }
}
