/*
 * Figure latency as a notebook reader or a command meets it: fresh Node processes load the built library (dist/)
 * and draw the learning curves as a PNG (showInline's scale 1) five times, then save one at scale 3 (saveFig),
 * with the render daemon cold (stopped first), warm (left running by the previous process), and as in a kernel
 * (the import starts the daemon; the first figure comes `--pause` ms later, a reader on the import cell).
 *
 *   npm run build && npx vite-node bench/figure_latency.ts [-- --runs 3 --pause 1500 --renderer inprocess]
 *
 * Prints one JSON line per process: { mode, importMs, firstMs, laterMs: [...], saveFigMs }.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, pause: { type: "string", default: "1500" }, renderer: { type: "string", default: "daemon" } },
});
const dist = resolve(__dirname, "../dist/lib");
const out = mkdtempSync(join(tmpdir(), "fashion-ann-figure-latency-"));

function child(mode: "cold" | "warm" | "kernel"): Record<string, unknown> {
  const script = `
    const t0 = performance.now();
    const lib = require(${JSON.stringify(join(dist, "index.js"))});
    const render = require(${JSON.stringify(join(dist, "figures/render/chromium.js"))});
    const importMs = performance.now() - t0;
    (async () => {
      if (${JSON.stringify(mode)} === "kernel") { render.warmRenderer(); await new Promise((r) => setTimeout(r, ${Number(values.pause)})); }
      const fig = (i) => lib.learningCurvesFigure({ loss: [1, 0.6, 0.5 - i / 100], val_loss: [0.9, 0.7, 0.6] });
      const times = [];
      for (let i = 0; i < 6; i++) {
        const t = performance.now();
        await render.renderFigure(fig(i), { format: "png" });
        times.push(Math.round(performance.now() - t));
      }
      const t = performance.now();
      await lib.saveFig(fig(0), "curves", { dir: ${JSON.stringify(out)} });
      const saveFigMs = Math.round(performance.now() - t);
      console.log(JSON.stringify({ importMs: Math.round(importMs), firstMs: times[0], laterMs: times.slice(1), saveFigMs }));
    })();`;
  const env = { ...process.env, FASHION_ANN_RENDERER: values.renderer };
  const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env });
  if (run.status !== 0) throw new Error(`${mode} run failed: ${run.stderr}`);
  return { mode, ...JSON.parse(run.stdout.trim().split("\n").at(-1)!) };
}

function stopDaemon(): void {
  const script = `require(${JSON.stringify(join(dist, "figures/render/chromium.js"))}).stopRenderDaemon().then(() => new Promise((r) => setTimeout(r, 500)))`;
  spawnSync(process.execPath, ["-e", script], { stdio: "inherit" });
}

for (let r = 0; r < Number(values.runs); r++) {
  for (const mode of ["cold", "warm", "kernel"] as const) {
    if (mode !== "warm") stopDaemon();
    console.log(JSON.stringify(child(mode)));
  }
}
rmSync(out, { recursive: true, force: true });
