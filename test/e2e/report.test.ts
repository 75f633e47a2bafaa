import { spawnSync } from "node:child_process";
import { runCli } from "./spawn";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumPath } from "../../lib/figures/render/chromium";

// `fashion-ann report` on a real (tiny, one-epoch) run folder trained on the real dataset.

const NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
const tmp = mkdtempSync(join(tmpdir(), "fashion-ann-report-"));
const runDir = join(tmp, "run");

const cli = (...args: string[]) => runCli(args, { timeout: 600_000 });

let html: string;
let reportStdout: string;

beforeAll(async () => {
  // --no-figures: the report renders its own figures; the five PNGs train draws are train-cli.test.ts's.
  const train = await cli("train", "--epochs", "1", "--hidden", "32", "--no-figures", "--out", runDir);
  expect(train.status, train.stderr).toBe(0);
  const report = await cli("report", runDir);
  expect(report.status, report.stderr).toBe(0);
  reportStdout = report.stdout;
  html = readFileSync(join(runDir, "report.html"), "utf8");
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("fashion-ann report <run>", () => {
  it("writes report.html and report.pdf into the run folder and prints their sizes", () => {
    expect(existsSync(join(runDir, "report.pdf"))).toBe(true);
    expect(reportStdout).toMatch(/report: .*report\.html \(\d+ kB\)/);
    expect(reportStdout).toMatch(/report: .*report\.pdf \(\d+ kB\)/);
    expect(readdirSync(runDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("makes one self-contained HTML file: no scripts, nothing fetched from elsewhere", () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/url\((?!data:)/);
  });

  it("has every section of the report", () => {
    for (const heading of [
      "Config",
      "Test metrics",
      "Environment",
      "Model",
      "Learning curves",
      "Confusion matrix",
      "Per-class scores",
      "Most confused classes",
      "Sample predictions",
      "Misclassified examples",
    ]) {
      expect(html).toContain(`<h2>${heading}</h2>`);
    }
    expect(html).toMatch(/Test accuracy <b>\d+\.\d\d %<\/b>/);
    expect(html).toContain("Total params: 25,450"); // 784*32+32 + 32*10+10 from summary.txt
  });

  it("lists every class in the per-class table", () => {
    for (const name of NAMES) expect(html).toContain(`<th>${name}</th>`);
  });

  it("inlines each figure once as an SVG data URI", () => {
    const imgs = html.match(/<img [^>]*src="data:image\/svg\+xml;base64,/g) ?? [];
    // architecture, curves, samples, confusion (2), class scores, misclassified
    expect(imgs).toHaveLength(7);
  });

  it("draws every image when opened offline in a browser", async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const remote: string[] = [];
      await page.route(/^(https?|wss?):/, (route) => {
        remote.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${join(runDir, "report.html")}`);
      const sizes = await page.$$eval("img", (els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
      expect(sizes).toHaveLength(7);
      expect(sizes.every((w) => w > 0)).toBe(true);
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("prints a multi-page PDF with the report's text", () => {
    const pdf = readFileSync(join(runDir, "report.pdf"));
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBeGreaterThan(2);
    const text = spawnSync("pdftotext", [join(runDir, "report.pdf"), "-"], { encoding: "utf8" });
    expect(text.status, "pdftotext (poppler-utils, installed by scripts/setup.sh)").toBe(0);
    expect(text.stdout).toMatch(/Most confused classes[\s\S]*Misclassified examples/);
  });

  it("refuses a folder that is not a run", async () => {
    const bad = await cli("report", join(tmp, "nope"), "--no-pdf");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/run folder .*nope does not exist/);
  });
});
