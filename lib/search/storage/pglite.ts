import * as fs from "node:fs";
import * as path from "node:path";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { SqlClient, SqlDatabase } from "./database";
import { isErrnoError } from "../../io/fs-errors";
import { StudyStorageError } from "./database";
import { copyEmptyCluster } from "./pglite-template";
import { lockEmbeddedStudy } from "./study-lock";

/** The installed PGlite's version: the cached empty cluster is kept per version (another version's initdb differs). */
function pgliteVersion(): string {
  const pkg = path.join(path.dirname(require.resolve("@electric-sql/pglite")), "..", "package.json");
  return (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** PostgreSQL's disk_full (SQLSTATE 53100), or the file system's ENOSPC as PGlite words it. */
function isDiskFull(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "53100" || e?.code === "ENOSPC" || /No space left on device/i.test(e?.message ?? String(err));
}

/** Megabytes free on the file system holding `dir`, for the disk-full sentence. */
function freeMb(dir: string): string {
  try {
    const s = fs.statfsSync(dir);
    return ((s.bavail * s.bsize) / 1e6).toFixed(1);
  } catch {
    return "?";
  }
}

function diskFull(dir: string): StudyStorageError {
  return new StudyStorageError(
    `disk full while writing the study database ${dir} (${freeMb(path.dirname(dir))} MB free left on that file system); ` +
      `the trials' finished epochs are kept in their run folders: free some space, then re-run the same command to resume the study`,
  );
}

const client = (q: PGlite | Transaction, dir: string): SqlClient => ({
  query: async <R>(sql: string, params?: unknown[]) => {
    try {
      const r = await q.query<R>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    } catch (err) {
      throw isDiskFull(err) ? diskFull(dir) : err;
    }
  },
});

/**
 * PGlite could not start on `dir`: its files were damaged (edited, cut by a full disk or a copy, another PostgreSQL
 * version's). Nothing is deleted: the run folders stay, and the damaged folder is the user's to restore or move aside.
 */
function damaged(dir: string, err: unknown): StudyStorageError {
  const why = err instanceof Error ? err.message : typeof err === "object" ? JSON.stringify(err) : String(err);
  return new StudyStorageError(
    `${dir} is not a study database this program can open (${why}); nothing was changed: restore it from a backup, ` +
      `or move it aside and continue in another --out (the trials' run folders and trials.csv in ${path.dirname(dir)} are kept)`,
  );
}

/**
 * The embedded study database: PostgreSQL compiled to WebAssembly (PGlite), kept in `dir` (the study folder's
 * study.pgdata), no server. One process owns it (study.pgdata.lock refuses a second); its local workers (--parallel) share that process's connection,
 * whose transactions PGlite runs one at a time.
 */
export async function openPglite(dir: string): Promise<SqlDatabase> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // PGlite loads with the first embedded study, not with the library.
  const release = lockEmbeddedStudy(dir, path.dirname(dir));
  let db: PGlite;
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    if (!fs.existsSync(dir)) await copyEmptyCluster(dir, pgliteVersion(), (d) => PGlite.create(d));
    db = await PGlite.create(dir);
  } catch (err) {
    release();
    throw isDiskFull(err) || freeMb(path.dirname(dir)) === "0.0" ? diskFull(dir) : isErrnoError(err) ? err : damaged(dir, err);
  }
  return {
    where: dir,
    ...client(db, dir),
    transaction: async (fn) => {
      try {
        return await db.transaction((tx) => fn(client(tx, dir)));
      } catch (err) {
        throw isDiskFull(err) ? diskFull(dir) : err;
      }
    },
    close: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
