// Every example of README.md and docs/*.md works: ```ts blocks type-check against the public API ("fashion-ann",
// the built dist/), and ```sh run blocks run, with short epochs, in a temp folder per page (scripts/docs/examples.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { documentationPages, type Example, extractExamples, moduleGroups, shortened } from "../../scripts/docs/examples";
import { CLI, ROOT, run } from "./spawn";

const examples = documentationPages(ROOT).flatMap((file) => extractExamples(file, fs.readFileSync(path.join(ROOT, file), "utf8")));
const byPage = (lang: "sh" | "ts", runnable: boolean) => {
  const pages = new Map<string, Example[]>();
  for (const e of examples.filter((x) => x.lang === lang && (!runnable || x.runnable)))
    pages.set(e.file, [...(pages.get(e.file) ?? []), e]);
  return [...pages];
};
const temps: string[] = [];

/** Runs at most `n` of the tasks given to it at a time, the others waiting in turn. */
function limit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running < n) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

describe("documentation examples", () => {
  it("finds TypeScript and runnable shell examples", () => {
    expect(examples.filter((e) => e.lang === "ts").length).toBeGreaterThan(0);
    expect(examples.filter((e) => e.runnable).length).toBeGreaterThan(0);
  });

  it("type-checks every TypeScript example against the public API", () => {
    // Under the project, so "fashion-ann" resolves as in a notebook (node_modules/fashion-ann -> the built dist/).
    fs.mkdirSync(path.join(ROOT, "test-results"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(ROOT, "test-results", "docs-ts-"));
    temps.push(dir);
    const files = byPage("ts", false).flatMap(([page, blocks]) =>
      moduleGroups(blocks).map((group, i) => {
        const file = path.join(dir, `${page.replace(/[/.]/g, "_")}-${i}.ts`);
        // Each block keeps its page line, so a diagnostic points back to the page; `export {}` allows top-level await.
        const body = group.map((b) => `// ${b.file}:${b.line}\n${b.code}`).join("\n");
        fs.writeFileSync(file, `export {};\n${body}`);
        return file;
      }),
    );
    const program = ts.createProgram(files, {
      noEmit: true,
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ["node"],
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (!d.file || d.start === undefined) return text;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const lines = d.file.text.split("\n").slice(0, line + 1);
      const marker = lines.findLastIndex((l) => l.startsWith("// ") && l.includes(".md:"));
      const [page, first] = lines[marker]!.slice(3).split(":");
      return `${page}:${Number(first) + (line - marker)}: ${text}`;
    });
    expect(problems, `TypeScript examples that no longer type-check:\n${problems.join("\n")}`).toEqual([]);
  });

  // `npx fashion-ann` is this checkout's CLI, as after `npm run setup`; nothing is fetched.
  const prelude = `set -euo pipefail\nnpx() { if [ "$1" = fashion-ann ]; then shift; node ${JSON.stringify(CLI)} "$@"; else command npx "$@"; fi; }\n`;
  // Pages run two at a time: each has its own temp folder, and its commands mostly wait on one single-threaded child
  // (a training, a render), so a second page uses the other core. README.md alone is a third of the file's time.
  const twoAtATime = limit(2);
  it.concurrent.each(byPage("sh", true))("runs the shell examples of %s", (page, blocks) =>
    twoAtATime(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-docs-"));
      temps.push(dir);
      for (const block of blocks) {
        const script = prelude + shortened(block.code);
        const result = await run("bash", ["-c", script], {
          cwd: dir,
          env: { ...process.env, FASHION_ANN_THREADS: "1" },
          timeout: 10 * 60_000,
        });
        const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-15).join("\n");
        expect(
          result.status,
          `${page}:${block.line}: example failed (exit ${result.status}):\n${block.code}\n--- last output:\n${output}`,
        ).toBe(0);
      }
    }),
  );
});
