// runNotebooks against probe notebooks in test/fixtures: parameters reach the kernel, outputs land
// in the run folder, and every way a tslab cell can fail stops the run with a message naming it.
// The probes import "fashion-ann", i.e. dist/: `npm test` builds it first (scripts/setup.sh).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { listNotebooks, NotebookError, runNotebooks } from "../../lib/notebook/execute";

const fixtures = path.resolve(__dirname, "../fixtures");
const okDir = path.join(fixtures, "notebooks-ok");
const badDir = path.join(fixtures, "notebooks-bad");

interface Cell {
  cell_type: string;
  source: string | string[];
  metadata: { tags?: string[] };
  outputs?: { output_type: string; name?: string; text?: string | string[] }[];
}
const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join("") : (v ?? ""));
const readCells = (file: string): Cell[] => (JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Cell[] }).cells;
const outputText = (cell: Cell): string => (cell.outputs ?? []).map((o) => text(o.text)).join("");

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-nbrun-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Pids of the processes whose working directory is `dir` (a kernel runs in its notebooks folder). */
function processesIn(dir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readlinkSync(`/proc/${p}/cwd`) === dir;
      } catch {
        return false; // gone, or not ours to read
      }
    })
    .map(Number);
}

/** Runs one bad probe and returns the NotebookError it must throw. */
async function failureOf(only: string): Promise<NotebookError> {
  const runDir = path.join(tmp, `bad-${only}`);
  const err = await runNotebooks({ notebooksDir: badDir, runDir, overrides: { epochs: 1 }, only: [only], timeoutPerCellSec: 120 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotebookError);
  return err as NotebookError;
}

// Every runNotebooks case below starts its own kernels on its own probe and run folder, so the kernel runs go side
// by side: most of each one's time is a tslab kernel starting and compiling.
describe("runNotebooks on probe notebooks", () => {
  it.concurrent("injects overrides {epochs: 2, hiddenUnits: [8]} and runDir, runs 01 then 02, writes both to runDir/notebooks", async () => {
    const runDir = path.join(tmp, "ok");
    const lines: string[] = [];
    const result = await runNotebooks({
      notebooksDir: okDir,
      runDir,
      overrides: { epochs: 2, hiddenUnits: [8] },
      log: (l) => lines.push(l),
    });

    expect(result.notebooks).toEqual([path.join(runDir, "notebooks", "01_probe.ipynb"), path.join(runDir, "notebooks", "02_second.ipynb")]);
    const cells = readCells(result.notebooks[0]!);
    const params = cells.findIndex((c) => c.metadata.tags?.includes("parameters"));
    expect(cells[params + 1]!.metadata.tags).toEqual(["injected-parameters"]);
    const printed = cells.map(outputText).join("");
    expect(printed).toMatch(/resolved config: \{"epochs":2,"batchSize":32,"hiddenUnits":\[8\]/);
    expect(printed).toContain(`run folder: ${runDir}\n`);
    // Consecutive writes to stdout are one output, as Jupyter's UI saves them.
    const configCell = cells.find((c) => outputText(c).includes("resolved config:"))!;
    expect(configCell.outputs).toHaveLength(1);
    expect(printed).toMatch(/^awaited$/m);
    // The kernel ran in the notebooks folder and saw the injected runDir.
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "probe.json"), "utf8"))).toEqual({ epochs: 2, cwd: okDir });
    expect(outputText(readCells(result.notebooks[1]!).at(-1)!)).toMatch(/second notebook ran with \{"epochs":2,"hiddenUnits":\[8\]\}/);

    // Progress and kernel output were streamed, in notebook order; a console.warn did not fail the run.
    expect(lines).toContainEqual(expect.stringMatching(/^\[01_probe\] cell 4\/7 ok \(\d+\.\d s\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[01_probe\] {3}\| resolved config: /));
    expect(lines).toContainEqual("[01_probe]   | a warning on stderr is not an error");
    expect(lines.findIndex((l) => l.startsWith("[02_second]"))).toBeGreaterThan(lines.findLastIndex((l) => l.startsWith("[01_probe]")));
    // One helper ran both; each notebook says how long it waited for its kernel (02's started while 01 ran).
    for (const nb of ["01_probe", "02_second"]) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[${nb}\\] kernel ready \\(waited \\d+\\.\\d s\\)$`)));
    }
  });

  it("stops at the first failing notebook of several, names it, and leaves no kernel running (not even the next one's)", async () => {
    const dir = path.join(tmp, "bad-then-ok");
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(badDir, "01_type_error.ipynb"), path.join(dir, "01_type_error.ipynb"));
    fs.copyFileSync(path.join(okDir, "02_second.ipynb"), path.join(dir, "02_second.ipynb"));
    const lines: string[] = [];
    const runDir = path.join(tmp, "bad-then-ok-run");
    const err = await runNotebooks({ notebooksDir: dir, runDir, overrides: { epochs: 1 }, log: (l) => lines.push(l) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotebookError);
    expect((err as NotebookError).notebook).toBe("01_type_error.ipynb");
    expect(lines.some((l) => l.startsWith("[02_second]"))).toBe(false);
    expect(fs.existsSync(path.join(runDir, "notebooks", "02_second.ipynb"))).toBe(false);
    expect(processesIn(dir)).toEqual([]);
  });

  it.concurrent("fails on a type error (tslab reports it only on stderr), naming notebook, cell 5 and its first line", async () => {
    const err = await failureOf("01");
    expect(err.message).toMatch(
      /^01_type_error\.ipynb: cell 5\/6 \("const epochs: number = \\"thirty\\";"\):\n1:7 - Type 'string' is not assignable to type 'number'/,
    );
    expect(err.cell).toBe(5);
    // The partly executed notebook is kept for reading, and nothing after the failing cell ran.
    const cells = readCells(err.outputPath!);
    expect(outputText(cells.at(-2)!)).toMatch(/not assignable/);
    expect(cells.at(-1)!.outputs).toEqual([]);
  });

  it.concurrent("fails on an exception thrown inside an awaited async function, with its message", async () => {
    const err = await failureOf("02");
    expect(err.message).toMatch(
      /^02_async_throw\.ipynb: cell 4\/5 \("async function trainBriefly\(\): Promise<number> \{"\):\nError: loss became NaN at step 3/,
    );
    expect(err.detail).not.toMatch(/node_modules\/tslab/);
  });

  it.concurrent("fails on a rejection of an un-awaited promise that tslab answers with status ok", async () => {
    const err = await failureOf("03");
    expect(err.message).toMatch(
      /^03_unawaited_rejection\.ipynb: cell \d\/5 [\s\S]*UnhandledPromiseRejection: Error: forgotten promise failed/,
    );
  });

  it.concurrent("fails when the kernel dies (process.exit in cell 4)", async () => {
    const err = await failureOf("04");
    expect(err.message).toMatch(/^04_kernel_death\.ipynb: cell 4\/4 \("process\.exit\(3\);"\):\nthe kernel died/);
  });

  it("refuses a notebook without a parameters cell, saying how to add one", async () => {
    const err = await failureOf("05");
    expect(err.message).toMatch(/^05_no_parameters\.ipynb: could not run:\n.*no cell tagged "parameters"; add one/);
  });

  it("rejects an unknown override key before starting any kernel", async () => {
    const runDir = path.join(tmp, "bad-config");
    const overrides = { epochz: 3 } as unknown as { epochs: number };
    await expect(runNotebooks({ notebooksDir: okDir, runDir, overrides })).rejects.toThrow(/unknown config field "epochz"/);
    expect(fs.existsSync(runDir)).toBe(false);
  });
});

describe("listNotebooks", () => {
  it("lists NN_*.ipynb in name order", () => {
    expect(listNotebooks(okDir)).toEqual(["01_probe.ipynb", "02_second.ipynb"]);
  });

  it('picks by number, stem or file name: only ["02"], ["01_probe"], ["02_second.ipynb"]', () => {
    expect(listNotebooks(okDir, ["02"])).toEqual(["02_second.ipynb"]);
    expect(listNotebooks(okDir, ["01_probe"])).toEqual(["01_probe.ipynb"]);
    expect(listNotebooks(okDir, ["02_second.ipynb"])).toEqual(["02_second.ipynb"]);
  });

  it('rejects only ["09"], which matches no notebook, listing the ones there are', () => {
    expect(() => listNotebooks(okDir, ["09"])).toThrow(/notebook "09" matches none of: 01_probe\.ipynb, 02_second\.ipynb/);
  });
});
