import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { offlineIndexHtml, WINDOW_ICONS_ROUTE } from "../../lib/figures/render/window";

describe("nodeplotlib's toolbar icons offline", () => {
  const original = readFileSync(join(__dirname, "../../node_modules/nodeplotlib/src/lib/server/web/index.html"), "utf8");

  it("declares the Material Icons font from the local route, not from Google", () => {
    const html = offlineIndexHtml(original);
    expect(original).toMatch(/font-family:'Material Icons'[^}]*url\(https:\/\/fonts\.gstatic\.com/);
    expect(html).toContain(`font-family:'Material Icons';font-style:normal;font-weight:400;src:url(${WINDOW_ICONS_ROUTE})`);
    expect(html).toMatch(/\.material-icons\{font-family:'Material Icons'/);
  });

  it("has the font file it serves there", () => {
    expect(existsSync(require.resolve("@fontsource/material-icons/files/material-icons-latin-400-normal.woff2"))).toBe(true);
  });
});
