/**
 * The examples of README.md and docs/*.md, as test/e2e/docs-examples.test.ts runs them. A fenced block's info
 * string decides: ```ts blocks are type-checked against the public API (a block without imports continues the one
 * before it, as notebook cells do); ```sh run (or ```bash run) blocks are run, each
 * page's in order in one temp folder, with short epochs; other ```sh blocks are shown only (servers, setup, a cluster).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Example {
  file: string;
  /** 1-based line of the opening fence, for the failure message. */
  line: number;
  lang: "sh" | "ts";
  runnable: boolean;
  code: string;
}

const FENCE = /^```(\w+)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
const LANGS: Record<string, "sh" | "ts"> = { sh: "sh", bash: "sh", shell: "sh", ts: "ts", typescript: "ts" };

/** The fenced sh/bash/ts blocks of one page's text. */
export function extractExamples(file: string, text: string): Example[] {
  const out: Example[] = [];
  for (const match of text.matchAll(FENCE)) {
    const lang = LANGS[match[1]!.toLowerCase()];
    if (!lang) continue;
    const words = match[2]!.trim().split(/\s+/);
    const line = text.slice(0, match.index).split("\n").length;
    out.push({ file, line, lang, runnable: words.includes("run"), code: match[3]! });
  }
  return out;
}

/** README.md and every docs/*.md page, relative to root. */
export function documentationPages(root: string): string[] {
  const docs = fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

/**
 * A runnable shell example made cheap: every training length becomes one or two epochs, a search two trials, and
 * train skips the tutorial's figures, so each page's examples finish in seconds while running the very commands a reader pastes.
 */
export function shortened(code: string): string {
  return code
    .replace(/--epochs[ =]\d+/g, "--epochs 1")
    .replace(/--max-epochs[ =]\d+/g, "--max-epochs 2")
    .replace(/--max-trials[ =]\d+/g, "--max-trials 2")
    .replace(/--set epochs=\d+/g, "--set epochs=1")
    // The tutorial's figures cost a Chromium render per run; report, figure and notebook tests cover them.
    .replace(/fashion-ann train /g, "fashion-ann train --no-figures ");
}

/**
 * A page's TypeScript blocks as modules: a block with an import starts a new one, and a block without continues the
 * one before, as a notebook cell uses what earlier cells defined.
 */
export function moduleGroups(blocks: Example[]): Example[][] {
  const groups: Example[][] = [];
  for (const block of blocks) {
    const last = groups.at(-1);
    if (last && !/^import\s/m.test(block.code)) last.push(block);
    else groups.push([block]);
  }
  return groups;
}
