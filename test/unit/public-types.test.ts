import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// tslab type-checks every cell against every .d.ts the notebook's import reaches, so each package whose types the
// public declarations name is paid for in every cell. These packages' types are large and a notebook never needs
// them: nodeplotlib's bring rxjs (189 files), playwright-core's 52,000 lines.
const ROOT = path.resolve(__dirname, "../..");
const KEPT_OUT = ["nodeplotlib", "rxjs", "playwright-core", "playwright"];

/** The declaration tsc emits for one lib source (stripInternal as in tsconfig.json), computed from that file alone. */
function declarationOf(file: string): string {
  const source = readFileSync(file, "utf8");
  const options = { declaration: true, stripInternal: true, module: ts.ModuleKind.CommonJS };
  return ts.transpileDeclaration(source, { fileName: file, compilerOptions: options }).outputText;
}

/** Module specifiers a declaration file refers to: imports, re-exports and `import("x")` types. */
function specifiersIn(declaration: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile("x.d.ts", declaration, ts.ScriptTarget.ES2022, true));
  return found;
}

/** The lib source a relative import names: `x.ts`, or `x/index.ts` for a folder. */
function sourceOf(target: string): string {
  return existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, "index.ts");
}

/** Packages named by the declarations reachable from lib/index.ts, following its relative imports. */
function packagesInPublicTypes(): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [path.join(ROOT, "lib/index.ts")];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiersIn(declarationOf(file))) {
      if (spec.startsWith(".")) pending.push(sourceOf(path.resolve(path.dirname(file), spec.replace(/\.js$/, ""))));
      else packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec));
    }
  }
  return packages;
}

describe("the public declarations a notebook's import type-checks", () => {
  const packages = packagesInPublicTypes();

  it("follow lib/index.ts into the figure and model declarations", () => {
    expect(packages).toContain("plotly.js");
    expect(packages).toContain("@tensorflow/tfjs");
  });

  it("name none of nodeplotlib, rxjs or playwright", () => {
    expect([...packages].filter((p) => KEPT_OUT.includes(p))).toEqual([]);
  });
});
