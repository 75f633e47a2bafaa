import * as fs from "node:fs";

// USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture node runs on.
const TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the whole machine since boot, all cores together; undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    // cpu  user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
    const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** This process's user + system CPU seconds so far (all its threads). */
export function ownCpuSeconds(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1e6;
}

/**
 * Cores that other processes keep busy right now: the machine's busy time over `ms` milliseconds,
 * minus this process's own. undefined where /proc/stat cannot be read.
 */
export async function busyCoresNow(ms = 200): Promise<number | undefined> {
  const [busy0, own0, t0] = [machineBusySeconds(), ownCpuSeconds(), performance.now()];
  await new Promise((resolve) => setTimeout(resolve, ms));
  const [busy1, own1, t1] = [machineBusySeconds(), ownCpuSeconds(), performance.now()];
  if (busy0 === undefined || busy1 === undefined) return undefined;
  return Math.max(0, busy1 - busy0 - (own1 - own0)) / ((t1 - t0) / 1000);
}
