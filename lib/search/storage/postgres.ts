import type pg from "pg";
import { type SqlClient, type SqlDatabase, StudyDatabaseLost, StudyStorageError } from "./database";
import { redactUrl } from "./url";

/** One sentence for the ways a connection fails that a user can fix; undefined for anything else. */
export function connectionProblem(err: unknown, url: string): string | undefined {
  const e = err as { code?: string; message?: string };
  const where = redactUrl(url);
  let host = where;
  let user = "";
  let database = "";
  try {
    const u = new URL(url);
    host = `${u.hostname}:${u.port || 5432}`;
    user = decodeURIComponent(u.username);
    database = u.pathname.slice(1);
  } catch {
    return `--storage ${where}: not a URL; expected postgresql://user:password@host:port/database`;
  }
  switch (e.code) {
    case "ECONNREFUSED":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach PostgreSQL at ${host} (${e.code}); check that the server runs and that host and port in ${where} are right`;
    case "28P01":
    case "28000":
      return `PostgreSQL at ${host} refused user "${user}" (${e.message}); check the user and password in ${where}`;
    case "3D000":
      return `PostgreSQL at ${host} has no database "${database}"; create it (createdb ${database}) or fix ${where}`;
    default:
      return undefined;
  }
}

/** Codes and messages that mean the server went away (a restart, the network), not that a statement was wrong. */
const LOST_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01",
  "57P02",
  "57P03",
]);
function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && (LOST_CODES.has(e.code) || e.code.startsWith("08"))) return true;
  return /Connection terminated|connection timeout|connection error|not queryable|terminating connection/i.test(e.message ?? "");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `op` again, with backoff (0.25 s doubling to 5 s), while the server is unreachable, for at most `seconds`;
 * then StudyDatabaseLost. A worker's trainers keep training meanwhile, so a database restart costs nothing.
 */
async function retried<T>(op: () => Promise<T>, where: string, seconds: number): Promise<T> {
  const start = Date.now();
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await op();
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
      const waited = Date.now() - start;
      if (waited >= seconds * 1000) {
        const cause = (err as { code?: string }).code ?? (err as Error).message;
        throw new StudyDatabaseLost(`lost the study database at ${where}: no answer for ${Math.round(waited / 1000)} s (${cause})`);
      }
      await sleep(Math.min(delay, seconds * 1000 - waited));
    }
  }
}

const client = (c: pg.Pool | pg.PoolClient): SqlClient => ({
  query: async <R>(sql: string, params?: unknown[]) => {
    const r = await c.query(sql, params);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  },
});

/**
 * A PostgreSQL server study database, reached with `pg`'s pool; any number of processes on any machines share it.
 * A lost connection is retried for `retrySeconds` (default 60) before StudyDatabaseLost.
 */
export async function openPostgres(url: string, retrySeconds = 60): Promise<SqlDatabase> {
  // pg loads with the first server study, not with the library.
  const { Pool } = (await import("pg")).default;
  const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // A pooled connection that dies (server restart) must not crash the worker; the next query reconnects.
  pool.on("error", () => {});
  try {
    (await pool.connect()).release();
  } catch (err) {
    await pool.end();
    const problem = connectionProblem(err, url);
    if (problem) throw new StudyStorageError(problem);
    throw err;
  }
  const where = redactUrl(url);
  const transaction = async <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    let broken: unknown;
    // A connection that dies while checked out emits 'error' on its client, which would end the process unheard;
    // the query in flight rejects too, and that rejection is what is retried.
    const onError = (err: unknown) => {
      broken = err;
    };
    c.on("error", onError);
    try {
      await c.query("BEGIN");
      const out = await fn(client(c));
      await c.query("COMMIT");
      return out;
    } catch (err) {
      if (isConnectionLoss(err)) broken = err;
      else await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.off("error", onError);
      // A connection that died is dropped from the pool, not handed to the next query.
      c.release(broken !== undefined);
    }
  };
  return {
    where,
    query: (sql, params) => retried(() => client(pool).query(sql, params), where, retrySeconds),
    transaction: (fn) => retried(() => transaction(fn), where, retrySeconds),
    close: () => pool.end(),
  };
}
