import { type SqlClient, type SqlDatabase, StudyStorageError } from "./database";

/** One step of the study database's layout; applied once, in order, and never edited after a release. */
export interface Migration {
  /** The schema version the database has once this step ran: 1, 2, 3, ... */
  version: number;
  description: string;
  statements: string[];
}

/**
 * The study database's layout, version by version (Optuna's RDB storage does the same with alembic). Version 1 is
 * the layout written before the database had a version: its IF NOT EXISTS adopts such a database as it is. A new
 * column is a new entry at the end (e.g. `ALTER TABLE fa_trials ADD COLUMN ...`), never an edit of an old one.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "studies, trials and their checkpoint files",
    // fa_ prefix: the study may share a database with anything else.
    statements: [
      `CREATE TABLE IF NOT EXISTS fa_studies (
        name text PRIMARY KEY,
        space_hash text NOT NULL,
        definition jsonb NOT NULL,
        final_owner text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE IF NOT EXISTS fa_trials (
        study text NOT NULL REFERENCES fa_studies(name) ON DELETE CASCADE,
        id text NOT NULL,
        idx integer NOT NULL,
        params jsonb NOT NULL,
        status text NOT NULL,
        bracket integer NOT NULL,
        round integer NOT NULL,
        epochs_target integer NOT NULL,
        history jsonb NOT NULL DEFAULT '[]',
        metrics jsonb NOT NULL DEFAULT '{}',
        owner text,
        heartbeat_at timestamptz,
        claims integer NOT NULL DEFAULT 0,
        PRIMARY KEY (study, id)
      )`,
      `CREATE TABLE IF NOT EXISTS fa_checkpoint_files (
        study text NOT NULL,
        id text NOT NULL,
        name text NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (study, id, name),
        FOREIGN KEY (study, id) REFERENCES fa_trials(study, id) ON DELETE CASCADE
      )`,
    ],
  },
  {
    version: 2,
    description: "wall seconds each trial's trainers ran (trials.csv's seconds column)",
    statements: ["ALTER TABLE fa_trials ADD COLUMN IF NOT EXISTS seconds double precision NOT NULL DEFAULT 0"],
  },
];

// Any constant works: it only keeps two processes opening the same new database from creating its tables at once.
const SCHEMA_LOCK = 0x5ea7c4;

async function storedVersion(tx: SqlClient): Promise<number> {
  // One row, the single source of the layout's version; a database without it is version 0 (new, or unversioned).
  await tx.query(
    "CREATE TABLE IF NOT EXISTS fa_schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)",
  );
  const { rows } = await tx.query<{ version: number }>("SELECT version FROM fa_schema_version");
  return rows[0]?.version ?? 0;
}

/**
 * Brings the database to the latest version of `migrations`, in one transaction (a kill midway leaves the old
 * layout), and returns the versions it went from and to. A database of a newer version than this code knows is
 * refused with a StudyStorageError: its layout may have columns this code would not fill.
 */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<{ from: number; to: number }> {
  const latest = migrations.at(-1)?.version ?? 0;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}: versions run 1, 2, 3, ...`);
  });
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    const from = await storedVersion(tx);
    if (from > latest) {
      throw new StudyStorageError(
        `the study database in ${db.where} has schema version ${from}, newer than this fashion-ann's ${latest}; open it with the fashion-ann that wrote it, or upgrade`,
      );
    }
    for (const m of migrations.slice(from)) for (const statement of m.statements) await tx.query(statement);
    if (from < latest) {
      await tx.query(
        "INSERT INTO fa_schema_version (one, version) VALUES (true, $1) ON CONFLICT (one) DO UPDATE SET version = excluded.version",
        [latest],
      );
    }
    return { from, to: Math.max(from, latest) };
  });
}
