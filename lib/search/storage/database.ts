import { UserError } from "../../errors/user-error";
/** The little of a PostgreSQL client the store needs; PGlite (embedded) and pg (server) both give it. */
export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export interface SqlDatabase extends SqlClient {
  /** Runs `fn` in one transaction on one connection: BEGIN, COMMIT, or ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Where the study lives, for messages: a folder or a URL without its password. */
  readonly where: string;
}

/** Thrown when the study cannot be used as asked (space mismatch, unknown study, newer schema); one sentence. */
export class StudyStorageError extends UserError {
  override name = "StudyStorageError";
}

/** The study's server stopped answering (after retries); the worker stops its trainers and says how to resume. */
export class StudyDatabaseLost extends StudyStorageError {
  override name = "StudyDatabaseLost";
}
