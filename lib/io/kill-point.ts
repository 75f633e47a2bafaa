import * as fs from "node:fs";
import * as path from "node:path";
import { testKillPoint } from "../config";

/*
 * Deterministic kill points for the kill tests. A SIGKILL sent on a timer lands anywhere, differently on a loaded
 * machine; a test that means "killed while trials.csv was being written" must kill exactly there. At a point named
 * by FASHION_ANN_TEST_KILL_POINT the process writes `<dir>/.killpoint-<name>` (its pid) and then stops dead, its
 * event loop blocked, so nothing after that point can happen before the test's SIGKILL arrives. Unset (always, in
 * normal use), a point costs one environment read.
 */

/** The file a process stopped at `point` writes into `dir`. */
function killPointFile(dir: string, point: string): string {
  return path.join(dir, `.killpoint-${point.replace(/[^\w.-]/g, "_")}`);
}

/** Stops this process for good at `point` if FASHION_ANN_TEST_KILL_POINT names it, announcing it in `dir`. */
export function killPoint(point: string, dir: string): void {
  if (testKillPoint() !== point) return;
  fs.writeFileSync(killPointFile(dir, point), String(process.pid));
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 1000);
}
