import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../errors/user-error";

/**
 * A file-system problem on a path the user gave or the program writes (not found, a file where a folder
 * is expected, a folder where a file is expected, unwritable, disk full), said in one sentence with the
 * path, what was expected and the fix. `code` is Node's errno code (ENOENT, ENOSPC, ...).
 */
export class PathError extends UserError {
  override name = "PathError";
  constructor(
    message: string,
    readonly path: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** A raw Node file-system error (it carries an errno `code`), not yet put in a sentence. */
export function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    !(err instanceof PathError) &&
    typeof (err as NodeJS.ErrnoException).code === "string" &&
    /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!)
  );
}

/** The nearest ancestor of `p` (or `p` itself) that exists but is not a folder: why ENOTDIR happened. */
function fileInTheWay(p: string): string | undefined {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      if (!fs.statSync(dir).isDirectory()) return dir;
    } catch {
      // missing: look further up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The nearest existing ancestor of `p`, for "disk full on ..." (the file itself may not exist). */
function existingAncestor(p: string): string {
  let dir = path.resolve(p);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function freeSpace(p: string): string {
  try {
    const s = fs.statfsSync(existingAncestor(p));
    const mb = (s.bavail * s.bsize) / 2 ** 20;
    return `${mb < 10 ? mb.toFixed(1) : mb.toFixed(0)} MB free`;
  } catch {
    return "free space unknown";
  }
}

/**
 * The one sentence for a file-system error. `file` is the path being read or written when the caller
 * knows it better than the error does; `kept` says what survives a failed write ("the previous ... is kept").
 */
export function pathError(err: NodeJS.ErrnoException, file?: string, kept?: string): PathError {
  const p = file ?? err.path ?? (err as { dest?: string }).dest ?? "?";
  const tail = kept ? `; ${kept}` : "";
  const code = err.code ?? "?";
  let sentence: string;
  switch (code) {
    case "ENOENT":
      sentence = `${p} does not exist; check the path`;
      break;
    case "ENOTDIR": {
      const blocker = fileInTheWay(err.path ?? p);
      sentence = blocker
        ? `${p}: ${blocker} is a file, expected a folder; choose a path under a folder, or move that file away`
        : `${p}: a part of this path is not a folder; choose a path made of folders`;
      break;
    }
    case "EISDIR":
      sentence = `${p} is a folder, expected a file; give the file's path`;
      break;
    case "EEXIST":
      sentence = `${p} already exists and is in the way; move it or choose another path`;
      break;
    case "EACCES":
    case "EPERM":
      sentence = `${p}: permission denied; make it readable and writable for this user or choose another path`;
      break;
    case "EROFS":
      sentence = `${p} is on a read-only file system; choose a writable path`;
      break;
    case "ENOSPC":
    case "EDQUOT":
      sentence = `disk full while writing ${p} (${freeSpace(p)} left on that file system); free some space or choose another folder`;
      break;
    default:
      sentence = `${p}: ${err.message.replace(/^[A-Z]+: /, "")}`;
  }
  return new PathError(sentence + tail, p, code);
}

/** Runs `fn`, turning a file-system error into a PathError (other errors pass unchanged). */
export function withPathErrors<T>(fn: () => T, file?: string, kept?: string): T {
  try {
    return fn();
  } catch (err) {
    throw isErrnoError(err) ? pathError(err, file, kept) : err;
  }
}

/** Requires `dir` to be an existing folder: `what` names it for the user (e.g. "run folder", "--data-dir"). */
export function assertFolder(dir: string, what: string, hint: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    if (isErrnoError(err) && err.code === "ENOENT") throw new PathError(`${what} ${dir} does not exist; ${hint}`, dir, "ENOENT");
    throw isErrnoError(err) ? pathError(err, dir) : err;
  }
  if (!stat.isDirectory()) throw new PathError(`${what} ${dir} is a file, expected a folder; ${hint}`, dir, "ENOTDIR");
}

/**
 * mkdir -p with the real reason on failure: Node's recursive mkdir reports a read-only or forbidden parent
 * as ENOENT, so on ENOENT the first missing folder is made alone to learn why (EROFS, EACCES, ENOTDIR).
 */
export function makeFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    if (!isErrnoError(err)) throw err;
    if (err.code === "ENOENT") {
      let first = path.resolve(dir);
      while (!fs.existsSync(path.dirname(first)) && path.dirname(first) !== first) first = path.dirname(first);
      try {
        fs.mkdirSync(first);
      } catch (cause) {
        if (isErrnoError(cause)) throw pathError(cause, dir);
      }
    }
    throw pathError(err, dir);
  }
}
