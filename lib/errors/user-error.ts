/**
 * Something the user can fix: a bad input (flag, config value, file, image, search space) or a fault outside the
 * program (a damaged run folder, a lost database, a full disk). Its message is the whole story, one sentence naming
 * what was wrong and what was expected, so the CLI prints it without a stack (exit 1; a bad flag or config value,
 * exit 2). Every other error is a bug in fashion-ann and keeps its stack.
 *
 * Each area subclasses it (ConfigError, PathError, RunError, RunLockError, StudyStorageError, SearchSpaceError, ...)
 * so code and tests can tell them apart, and the CLI needs to know only this base.
 */
export class UserError extends Error {
  override name = "UserError";
}

/** True for an error whose message is meant for the user (a UserError of any area). */
export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}
