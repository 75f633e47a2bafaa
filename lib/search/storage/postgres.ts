import type pg from "pg";
import { type SqlClient, type SqlDatabase, StudyStorageError } from "./database";

/** The URL with its password hidden, for messages and logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

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
    return `--storage ${url}: not a URL; expected postgresql://user:password@host:port/database`;
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

const client = (c: pg.Pool | pg.PoolClient): SqlClient => ({
  query: async <R>(sql: string, params?: unknown[]) => {
    const r = await c.query(sql, params);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  },
});

/** A PostgreSQL server study database, reached with `pg`'s pool; any number of processes on any machines share it. */
export async function openPostgres(url: string): Promise<SqlDatabase> {
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
  return {
    where: redactUrl(url),
    ...client(pool),
    transaction: async (fn) => {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const out = await fn(client(c));
        await c.query("COMMIT");
        return out;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
