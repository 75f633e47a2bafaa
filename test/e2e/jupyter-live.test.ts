// What a reader sees while notebook 04 trains in Jupyter Notebook: the Keras bar moving in place, one line per
// finished epoch, the learning curves redrawn after each epoch. A real server, the project's tslab kernel and the
// system Chromium through playwright-core; the parameters cell is edited in the page (2 epochs, a temp run folder),
// never saved. Screenshots: SHOT_MID (mid-epoch), SHOT_END (after the last epoch), SHOT_STOPPED (after ■), for a look.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../lib/io/paths";
import { type JupyterServer, openBrowser, startJupyter } from "./helpers/jupyter";

const SHOT_MID = "/tmp/fashion-ann-live-mid-epoch.png";
const SHOT_END = "/tmp/fashion-ann-live-end.png";
const SHOT_STOPPED = "/tmp/fashion-ann-live-stopped.png";
const root = projectRoot();
const NOTEBOOK = "04_train.ipynb";
// Two: the fewest that show an epoch line kept below the next one and the curves redrawn after the next epoch.
const EPOCHS = 2;

/** What the fit cell shows at one moment: its text output (epoch lines and bar) and its SVG figure. */
interface FitView {
  text: string;
  svg: string;
  outputs: number;
  running: boolean;
}

describe(`Jupyter Notebook shows ${NOTEBOOK}'s training live`, () => {
  const notebookPath = path.join(root, "notebooks", NOTEBOOK);
  const original = fs.readFileSync(notebookPath, "utf8");
  let tmp: string;
  let server: JupyterServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-live-"));
    server = await startJupyter(path.dirname(notebookPath), tmp);
    ({ browser, page } = await openBrowser(1100));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (fs.readFileSync(notebookPath, "utf8") !== original) {
      fs.writeFileSync(notebookPath, original);
      throw new Error(`${notebookPath} was modified by the UI run (restored it); autosave must stay off`);
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const fitView = (): Promise<FitView> =>
    page.evaluate(() => {
      const cell = (window as any).Jupyter.notebook.get_cells().find((c: any) => c.get_text().includes("await fit("));
      const el: HTMLElement = cell.element[0];
      return {
        text: Array.from(el.querySelectorAll(".output_text pre"), (p) => p.textContent ?? "").join("\n"),
        svg: el.querySelector(".output_svg svg")?.outerHTML ?? "",
        outputs: cell.output_area.outputs.length,
        running: cell.input_prompt_number === "*",
      };
    });

  async function screenshotFitCell(file: string): Promise<void> {
    await page.evaluate(() => {
      const cell = (window as any).Jupyter.notebook.get_cells().find((c: any) => c.get_text().includes("await fit("));
      cell.element[0].scrollIntoView({ block: "start" });
    });
    await page.screenshot({ path: file });
  }

  // Every distinct figure the fit cell showed, in order: the curves are redrawn if there is more than one.
  const figuresSeen: string[] = [];

  async function waitFor(predicate: (v: FitView) => boolean, what: string, timeoutMs: number): Promise<FitView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fitView();
      if (v.svg && v.svg !== figuresSeen.at(-1)) figuresSeen.push(v.svg);
      if (predicate(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the fit cell shows:\n${v.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it(`runs notebook 04 for ${EPOCHS} epochs: the bar moves mid-epoch, each epoch keeps its line, the curves are redrawn`, async () => {
    await page.goto(server!.notebookUrl(NOTEBOOK));
    await page.waitForSelector("#kernel_indicator_icon.kernel_idle_icon", { timeout: 120_000 });
    const runDir = path.join(tmp, "run");
    await page.evaluate(
      ({ epochs, runDir }) => {
        const nb = (window as any).Jupyter.notebook;
        nb.set_autosave_interval(0);
        const params = nb.get_cells().find((c: any) => (c.metadata.tags ?? []).includes("parameters"));
        // wasm: its epochs last seconds, so the bar is caught mid-epoch (a native epoch is over in under one). One
        // thread: the e2e file beside this one shares the two cores, and an XNNPACK thread sharing its core stalls.
        params.set_text(
          `let overrides: ConfigOverrides = { epochs: ${epochs}, backend: "wasm", threads: 1 };\nlet runDir = ${JSON.stringify(runDir)};`,
        );
        nb.execute_all_cells();
      },
      { epochs: EPOCHS, runDir },
    );

    // Mid-epoch: the bar of epoch 1 is on screen with an ETA and running metrics.
    const midBar = /^\s*(\d+)\/1719 \[=*>?\.*\] - ETA: \S+ - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/m;
    const first = await waitFor(
      (v) => new RegExp(`Epoch 1/${EPOCHS}`).test(v.text) && Number(midBar.exec(v.text)?.[1]) > 100,
      "epoch 1's bar",
      300_000,
    );
    await screenshotFitCell(SHOT_MID);
    const later = await waitFor(
      (v) => Number(midBar.exec(v.text)?.[1] ?? 1719) > Number(midBar.exec(first.text)![1]),
      "the bar to move",
      60_000,
    );
    // Redrawn in place: still one text output and no figure yet, however many times the bar moved.
    expect(later.outputs).toBe(1);
    expect(later.svg).toBe("");

    // After epoch 1: its line stays, the curves appear below (the first render starts Chromium: it may come later).
    // The epoch's time as Keras writes it (formatDuration): `7s`, or `1:19` once an epoch takes a minute (a busy machine).
    const doneLine =
      /^1719\/1719 \[={30}\] - (\d+s|\d+(:\d\d){1,2}) \d+(s|ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$/gm;
    const afterOne = await waitFor((v) => v.svg !== "", "the curves after epoch 1", 300_000);
    expect(afterOne.text.match(doneLine)?.length).toBeGreaterThanOrEqual(1);

    // After the last epoch: two finished lines, no bar left, the curves redrawn with both epochs.
    const end = await waitFor((v) => !v.running && (v.text.match(doneLine)?.length ?? 0) === EPOCHS, "the end of training", 300_000);
    await waitFor((v) => figuresSeen.length >= 2 && v.svg === figuresSeen.at(-1), "the curves redrawn", 60_000);
    const final = await fitView();
    expect(figuresSeen.length, "distinct figures shown while training").toBeGreaterThanOrEqual(2);
    await screenshotFitCell(SHOT_END);
    expect(end.text).not.toMatch(/ETA/);
    expect(final.outputs).toBe(2);
    expect(final.svg).toMatch(/class="legendtext"[^>]*>val_accuracy</);
  });

  it("the interrupt button mid-epoch stops training after the batch, and the live output says so", async () => {
    // Run the fit cell again (the model trains on from where it is) and press ■ once its bar has moved.
    await page.evaluate(() => {
      const nb = (window as any).Jupyter.notebook;
      const i = nb.get_cells().findIndex((c: any) => c.get_text().includes("await fit("));
      nb.execute_cells([i]);
    });
    const midBar = /^\s*(\d+)\/1719 \[=*>?\.*\] - ETA/m;
    await waitFor((v) => v.running && Number(midBar.exec(v.text)?.[1]) > 50, "the bar of the re-run", 300_000);
    await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
    const stopped = await waitFor((v) => /Training stopped by SIGINT/.test(v.text), "the live output to say training stopped", 120_000);
    await screenshotFitCell(SHOT_STOPPED);
    expect(stopped.text).toMatch(
      new RegExp(
        `^Epoch 1/${EPOCHS}\nTraining stopped by SIGINT during epoch 1 \\(batch \\d+/1719, discarded\\); the 0 completed epoch\\(s\\) of ${EPOCHS} are kept\\.$`,
        "m",
      ),
    );
    expect(stopped.text).not.toMatch(/ETA/);
  });

  it("after ■ the kernel lives on with its variables: a new cell evaluates the trained model", async () => {
    // A restarted kernel (the reader's "kernel appears to have died") would have no `model` or `X_valid`.
    const output = await page.evaluate(async () => {
      const nb = (window as any).Jupyter.notebook;
      // tslab drops cells that arrive just after a failed one (as IPython's stop_on_error does).
      await new Promise((r) => setTimeout(r, 1000));
      const cell = nb.insert_cell_at_bottom("code");
      cell.set_text(
        'import { evaluate } from "fashion-ann";\nconst after = evaluate(model, { x: X_valid, y: y_valid }, null);\nconsole.log("val_accuracy=" + after.test_accuracy.toFixed(4));',
      );
      cell.execute();
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const text = Array.from(cell.element[0].querySelectorAll(".output_subarea"), (e: any) => e.textContent).join("\n");
        if (cell.input_prompt_number !== "*" && text) return text;
        await new Promise((r) => setTimeout(r, 200));
      }
      return "timed out";
    });
    expect(output).toMatch(/^val_accuracy=0\.(7[5-9]|[89]\d)\d*$/m);
    expect(await page.evaluate(() => (window as any).Jupyter.notebook.kernel.is_connected())).toBe(true);
  });
});
