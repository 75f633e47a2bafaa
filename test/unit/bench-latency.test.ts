import { Command } from "commander";
import { describe, expect, it } from "vitest";
import {
  formatLatencyTable,
  LATENCY_STEP_INFO,
  type LatencyReport,
  latencySummaryLine,
  latencyTableRows,
  meetsTarget,
  summarizeLatency,
} from "../../lib/bench/latency-report";
import { registerBench } from "../../lib/cli/commands/bench";

describe("meetsTarget", () => {
  it.each([
    [0.69, 0.7, true],
    [0.7, 0.7, true],
    [0.71, 0.7, false],
  ])("median %s s against %s s: %s", (median, target, met) => {
    expect(meetsTarget(median, target)).toBe(met);
  });

  it("a step without a target gets no verdict", () => {
    expect(meetsTarget(12, null)).toBeNull();
  });
});

describe("summarizeLatency", () => {
  const summary = summarizeLatency({
    seconds: { help: [0.31, 0.12, 0.2], import: [0.5, 0.9], startNotebook: [0.4, 0.3, 0.35], laterFigure: [0.25] },
    failures: { firstFigure: "Chromium not found at /usr/bin/chromium" },
  });

  it("keeps the reader's order (import, startNotebook, ..., help) whatever order the samples came in", () => {
    expect(summary.rows.map((r) => r.step)).toEqual(["import", "startNotebook", "laterFigure", "help"]);
  });

  it("takes the median and the range of the repeats and judges the median against the issue's target", () => {
    const help = summary.rows.find((r) => r.step === "help")!;
    expect(help).toMatchObject({ median: 0.2, min: 0.12, max: 0.31, target: 0.3, met: true, seconds: [0.31, 0.12, 0.2] });
    // An even count: the mean of the middle two, 0.7, is exactly the import target and meets it.
    expect(summary.rows.find((r) => r.step === "import")).toMatchObject({ median: 0.7, target: 0.7, met: true });
    expect(summary.rows.find((r) => r.step === "startNotebook")).toMatchObject({ median: 0.35, target: null, met: null });
  });

  it("a failed step has no row, only its reason; a step never measured is left out", () => {
    expect(summary.failed).toEqual([
      { step: "firstFigure", label: "first figure cell", reason: "Chromium not found at /usr/bin/chromium" },
    ]);
    expect(summary.rows.some((r) => r.step === "badFlag" || r.step === "firstFigure")).toBe(false);
  });

  it("refuses a negative or NaN time, naming the step", () => {
    expect(() => summarizeLatency({ seconds: { help: [0.2, Number.NaN] }, failures: {} })).toThrow(
      /help: times must be non-negative seconds, got 0.2, NaN/,
    );
  });

  it("the targets are issue 23's: import 0.7 s, import + startNotebook 1.5 s, figures 1 s then 0.3 s, commands 0.3 s", () => {
    const targets = Object.fromEntries(Object.entries(LATENCY_STEP_INFO).map(([step, info]) => [step, info.target]));
    expect(targets).toEqual({
      import: 0.7,
      startNotebook: null,
      importAndStart: 1.5,
      loadData: null,
      startWithData: 1.5,
      firstFigure: 1,
      laterFigure: 0.3,
      laterGridFigure: 0.3,
      kernelStart: null,
      kernelImport: null,
      kernelStartNotebook: null,
      kernelImportAndStart: 1.5,
      help: 0.3,
      badFlag: 0.3,
      nodeStart: null,
    });
  });
});

describe("the latency table", () => {
  const report: LatencyReport = {
    ...summarizeLatency({
      seconds: { import: [0.9, 1.1, 1.0], startNotebook: [0.3], badFlag: [0.25, 0.2] },
      failures: { firstFigure: "the notebook child exited with code 1 before reporting" },
    }),
    environment: { cpus: 2, load_average_before: [1.234, 1, 1] },
  };

  it("has one row per step: median, range, target and verdict, then failed steps with dashes", () => {
    const rows = latencyTableRows(report);
    expect(rows[0]).toEqual(["step", "median s", "min-max s", "target s", "met", "how"]);
    expect(rows[1]).toEqual([
      'import { ... } from "fashion-ann"',
      "1.00",
      "0.90-1.10",
      "<= 0.7",
      "NO",
      "require of the library in a fresh process; n=3",
    ]);
    expect(rows[2]!.slice(0, 5)).toEqual(["startNotebook()", "0.30", "0.30-0.30", "-", "-"]);
    expect(rows[3]!.slice(0, 5)).toEqual(["fashion-ann train --epochs x", "0.23", "0.20-0.25", "<= 0.3", "yes"]);
    expect(rows[4]).toEqual(["first figure cell", "-", "-", "-", "-", "failed: the notebook child exited with code 1 before reporting"]);
  });

  it("prints as a boxed table like the epoch benchmark's", () => {
    const text = formatLatencyTable(report);
    expect(text).toMatch(/^╔/);
    expect(text).toMatch(/│\s+<= 0\.7\s+│\s+NO\s+│/);
    expect(text).toMatch(/│\s+<= 0\.3\s+│\s+yes\s+│/);
  });

  it("the line under it counts the targets met and says how loaded the machine was", () => {
    expect(latencySummaryLine(report)).toBe(
      "1 of 2 targets met, 1 step failed; load average 1.2 on 2 cores before the first repeat (the targets are for a machine otherwise idle)\n",
    );
  });
});

describe("bench --latency flags", () => {
  const parse = (...args: string[]) => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerBench(program);
    return program.parseAsync(["node", "cli", "bench", ...args]);
  };

  it("refuses epoch-benchmark flags beside --latency, naming them", async () => {
    await expect(parse("--latency", "--epochs", "2", "--batch-size", "64")).rejects.toThrow(
      /--latency takes only --repeats and --json; drop --epochs, --batch-size/,
    );
  });

  it("refuses --repeats without --latency", async () => {
    await expect(parse("--repeats", "3")).rejects.toThrow(/--repeats goes with --latency/);
  });

  it("refuses --repeats 0 before running anything", async () => {
    await expect(parse("--latency", "--repeats", "0")).rejects.toThrow(/--repeats must be at least 1, got 0/);
  });
});
