import * as fs from "node:fs";

// Other processes, as /proc shows them: alive or gone, and when they started (so a reused pid is not mistaken for its predecessor).

/**
 * True if a process with this pid runs (on this host). EPERM means it exists but belongs to someone
 * else. A zombie (killed, not yet reaped by its parent) still answers kill(pid, 0) but runs no more.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = procStat(pid)?.[0];
  return state !== "Z" && state !== "X";
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined without /proc. */
export function processStartTicks(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Fields 3 onwards of /proc/<pid>/stat (state first), or undefined where there is no /proc or no such process. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}
