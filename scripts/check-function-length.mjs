// `npm run lint:functions`: no function in lib/ spans more than 80 lines (STYLE.md: small functions, split into
// named steps). Biome has no such rule; TypeScript's own parser finds every function, method, arrow and constructor
// with a body. Exit code 1, with one line per function over the limit, on any violation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const MAX_LINES = 80;
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["lib"];

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) yield* tsFiles(file);
    else if (file.endsWith(".ts") && !file.endsWith(".d.ts")) yield file;
  }
}

function nameOf(node) {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText();
  return "(anonymous)";
}

const long = [];
for (const root of roots) {
  for (const file of tsFiles(root)) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      const isFunction =
        ts.isFunctionDeclaration(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isArrowFunction(node) ||
        ts.isFunctionExpression(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isGetAccessor(node) ||
        ts.isSetAccessor(node);
      if (isFunction && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const last = source.getLineAndCharacterOfPosition(node.end).line;
        const lines = last - first + 1;
        if (lines > MAX_LINES) long.push(`${file}:${first + 1} ${nameOf(node)} is ${lines} lines`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}
if (long.length > 0) {
  for (const line of long) console.error(`error function-length: ${line}`);
  console.error(`✘ ${long.length} function(s) over ${MAX_LINES} lines: split each into named steps.`);
  process.exit(1);
}
console.log(`✔ no function in ${roots.join(", ")} over ${MAX_LINES} lines`);
