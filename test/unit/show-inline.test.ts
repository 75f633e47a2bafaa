import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { learningCurvesFigure } from "../../lib/figures/curves";
import { PLOTLY_MIMETYPE, PNG_FIRST_WAIT_MS, showPngAndPlotly } from "../../lib/figures/render/inline";

// What showInline sends to a JupyterLab page, in a stand-in kernel and with a renderer whose PNG takes as long as the
// test says.
const pngAfter = (ms: number) => () => new Promise<Buffer>((resolve) => setTimeout(() => resolve(Buffer.from("png")), ms));

// A stand-in for tslab's kernel modules, where showInline looks for them (a module cache entry ending in
// tslab/dist/jupyter.js): it records what showInline sends to the page.
const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "show-inline-")), "tslab", "dist");
fs.mkdirSync(fake, { recursive: true });
fs.writeFileSync(
  path.join(fake, "jupyter.js"),
  "exports.sent = [];\nexports.lastWriteDisplayData = (m, update) => exports.sent.push({ data: m.data, id: m.transient.display_id, update });\n",
);
fs.writeFileSync(path.join(fake, "public.js"), "exports.display = {};\n");
const jupyter = require(path.join(fake, "jupyter.js")) as { sent: { data: Record<string, unknown>; id: string; update: boolean }[] };
require(path.join(fake, "public.js"));
afterAll(() => {
  for (const f of ["jupyter.js", "public.js"]) delete require.cache[path.join(fake, f)];
  fs.rmSync(path.dirname(path.dirname(fake)), { recursive: true, force: true });
});

const fig = learningCurvesFigure({ loss: [0.7, 0.5], val_loss: [0.6, 0.55] });
const mimes = (m: { data: Record<string, unknown> }) => Object.keys(m.data).sort();

describe("showInline's PNG and plotly JSON (showPngAndPlotly)", () => {
  beforeEach(() => {
    jupyter.sent.length = 0;
  });

  it("sends both in one output when the PNG is ready in time: the page shows the PNG, live on hover", async () => {
    await showPngAndPlotly(fig, {}, pngAfter(10));
    expect(jupyter.sent.map((m) => [mimes(m), m.update])).toEqual([[["image/png", PLOTLY_MIMETYPE, "text/plain"].sort(), false]]);
  });

  it("sends the JSON alone first when the PNG is late, then updates that same output to add the PNG", async () => {
    await showPngAndPlotly(fig, {}, pngAfter(PNG_FIRST_WAIT_MS + 200));
    expect(jupyter.sent.map((m) => [mimes(m), m.update])).toEqual([
      [[PLOTLY_MIMETYPE, "text/plain"].sort(), false],
      [["image/png", PLOTLY_MIMETYPE, "text/plain"].sort(), true],
    ]);
    expect(jupyter.sent[1]!.id).toBe(jupyter.sent[0]!.id);
  });

  it("sends the PNG alone for a figure kept static (interactive: false), however long it takes", async () => {
    await showPngAndPlotly(fig, { interactive: false }, pngAfter(PNG_FIRST_WAIT_MS + 100));
    expect(jupyter.sent.map((m) => [mimes(m), m.update])).toEqual([[["image/png", "text/plain"], false]]);
  });
});
