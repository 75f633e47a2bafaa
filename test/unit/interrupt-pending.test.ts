import { describe, expect, it } from "vitest";
import {
  clearPendingInterrupt,
  interruptNextTraining,
  interruptTrainings,
  lastInterruptSignal,
  onInterrupt,
} from "../../lib/train/interrupt";

// A search's trainer told to stop while its trial loads (a late prune) must stop that trial's training as it starts,
// not end the process (lib/cli/trainer-worker.ts).
describe("a stop asked while no training runs", () => {
  it("stops the next training as it registers, once, with that signal", async () => {
    expect(interruptTrainings("SIGTERM")).toBe(false);
    interruptNextTraining("SIGTERM");
    let stops = 0;
    const release = await onInterrupt(() => stops++);
    expect(stops).toBe(1);
    expect(lastInterruptSignal()).toBe("SIGTERM");
    release();
    let later = 0;
    const releaseLater = await onInterrupt(() => later++);
    expect(later).toBe(0);
    releaseLater();
  });

  it("is dropped by clearPendingInterrupt (the trial ended without training)", async () => {
    interruptNextTraining("SIGINT");
    clearPendingInterrupt();
    let stops = 0;
    const release = await onInterrupt(() => stops++);
    expect(stops).toBe(0);
    expect(lastInterruptSignal()).toBeUndefined();
    release();
  });
});
