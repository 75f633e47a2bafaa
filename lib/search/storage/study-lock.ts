import * as fs from "node:fs";
import * as os from "node:os";
import { StudyStorageError } from "./database";

/** Who holds an embedded study: one process, as PGlite opens its folder for one process only. */
interface Holder {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
  } catch (err) {
    // Gone meanwhile, or half-written by a process killed between open and write: nobody holds it.
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * Takes the embedded study in `dir` for this process, or refuses in one sentence: a second `fashion-ann search` on
 * the same --out would open the same PGlite folder and both would run (and fail) the same trials. A lock left by a
 * process that died on this host is taken over. Returns the release function.
 */
export function lockEmbeddedStudy(dir: string, out: string): () => void {
  const file = `${dir}.lock`;
  const me: Holder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readHolder(file);
    if (holder && (holder.host !== me.host || alive(holder.pid))) {
      const where = holder.host === me.host ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
      throw new StudyStorageError(
        `${out} is already being searched by another fashion-ann search (${where}, since ${holder.since}); its embedded study database takes one process: ` +
          `wait for it to finish, give it more trainers with --parallel, or share a PostgreSQL study between commands with --storage` +
          (holder.host === me.host ? "" : `; if that host is gone, delete ${file}`),
      );
    }
    // Its holder died (or never wrote its name): take it over.
    fs.rmSync(file, { force: true });
  }
  throw new StudyStorageError(`${file}: could not take the study's lock; try again`);
}
