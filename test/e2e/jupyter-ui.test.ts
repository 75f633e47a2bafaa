// What a person does: start Debian's Jupyter Notebook with the project's kernel, open notebook 01
// in a browser, Cell > Run All, wait for the kernel to go idle, and read what the cells show.
// Uses the system Chromium through playwright-core (no browser download). Leaves a screenshot at
// SCREENSHOT for a look. FASHION_ANN_UI_NOTEBOOK=<path> points it at another notebook (for
// developing against test/fixtures/notebooks-ok/01_probe.ipynb).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { KERNEL_ERROR_PATTERN } from "../../lib/notebook/execute";
import { type JupyterServer, openBrowser, startJupyter } from "./helpers/jupyter";
import { projectRoot } from "../../lib/io/paths";

const SCREENSHOT = "/tmp/fashion-ann-jupyter-ui.png";
const root = projectRoot();

function notebookUnderTest(): string {
  if (process.env.FASHION_ANN_UI_NOTEBOOK) return path.resolve(process.env.FASHION_ANN_UI_NOTEBOOK);
  const dir = path.join(root, "notebooks");
  const first = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => /^01_.+\.ipynb$/.test(f)) : undefined;
  if (!first) throw new Error(`no notebooks/01_*.ipynb in ${dir}: the UI test opens the first notebook of the story`);
  return path.join(dir, first);
}

/** Code cells as the notebook page holds them after the run. */
interface UiCell {
  prompt: number | string | null;
  firstLine: string;
  outputs: { output_type: string; name?: string; text?: string }[];
}

describe("Jupyter Notebook UI runs notebook 01 with the project's tslab kernel", () => {
  let notebook: string;
  let originalContent: string;
  let tmp: string;
  let server: JupyterServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    notebook = notebookUnderTest();
    originalContent = fs.readFileSync(notebook, "utf8");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-jupyter-"));
    server = await startJupyter(path.dirname(notebook), tmp);
    ({ browser, page } = await openBrowser(1600));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    // Autosave is switched off below, but the notebook in the repository must never keep UI-run outputs.
    if (notebook && fs.readFileSync(notebook, "utf8") !== originalContent) {
      fs.writeFileSync(notebook, originalContent);
      throw new Error(`${notebook} was modified by the UI run (restored it); autosave must stay off in this test`);
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("opens the notebook, runs all cells from the Cell menu, and every cell shows output without errors", async () => {
    const name = path.basename(notebook);
    await page.goto(server!.notebookUrl(name));
    // The kernel is connected and idle once the indicator shows the idle icon.
    await page.waitForSelector("#kernel_indicator_icon.kernel_idle_icon", { timeout: 120_000 });
    await page.evaluate(() => (window as any).Jupyter.notebook.set_autosave_interval(0));
    expect(await page.textContent(".kernel_indicator_name")).toBe("TypeScript");

    await page.click("#celllink");
    await page.click("#run_all_cells > a");

    // Idle kernel and no cell still waiting ("In [*]"), twice in a row: between two queued cells
    // the indicator can flicker to idle.
    await page.waitForFunction(
      () => {
        const w = window as any;
        const idle =
          document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon") &&
          !w.Jupyter.notebook.get_cells().some((c: any) => c.cell_type === "code" && c.input_prompt_number === "*");
        const settled = idle && w.__idleSeen === true;
        w.__idleSeen = idle;
        return settled;
      },
      undefined,
      { polling: 1000, timeout: 30 * 60_000 },
    );
    await page.screenshot({ path: SCREENSHOT });

    const cells: UiCell[] = await page.evaluate(() =>
      (window as any).Jupyter.notebook
        .get_cells()
        .filter((c: any) => c.cell_type === "code" && c.get_text().trim() !== "")
        .map((c: any) => ({
          prompt: c.input_prompt_number ?? null,
          firstLine: c.get_text().split("\n")[0],
          outputs: c.output_area.outputs,
        })),
    );
    expect(cells.length).toBeGreaterThan(0);
    const notRun = cells.filter((c) => typeof c.prompt !== "number").map((c) => `${JSON.stringify(c.firstLine)} (In [${c.prompt ?? " "}])`);
    const errors = cells.flatMap((c) =>
      c.outputs
        .filter((o) => o.output_type === "error" || (o.name === "stderr" && KERNEL_ERROR_PATTERN.test(o.text ?? "")))
        .map((o) => `${JSON.stringify(c.firstLine)}: ${o.text ?? JSON.stringify(o)}`),
    );
    expect(errors, "cells showing errors").toEqual([]);
    expect(notRun, "code cells that did not run").toEqual([]);
    expect(
      cells.some((c) => c.outputs.length > 0),
      "no cell showed any output",
    ).toBe(true);
    // And the page really rendered them, not only the notebook model.
    expect(await page.locator(".output_area .output_subarea").count()).toBeGreaterThan(0);
    expect(await page.locator(".output_area .output_error").count()).toBe(0);
  });
});
