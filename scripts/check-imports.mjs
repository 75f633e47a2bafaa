// `npm run lint:imports`: lib/'s import rules (.dependency-cruiser.cjs), then the one rule dependency-cruiser cannot
// state: no cycle between folders. Its own `scope: "folder"` rules see an import as going to the importee's leaf
// folder only, so train/ → engine/native/ → train/optimizers/ is no cycle to it, although train/ and engine/ lean
// on each other. One cruise serves both checks; exit code 1 on any violation.
import { createRequire } from "node:module";
import { cruise, format } from "dependency-cruiser";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";

const require = createRequire(import.meta.url);
const config = require("../.dependency-cruiser.cjs");
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["lib"];

const result = await cruise(
  roots,
  { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true },
  {},
  { tsConfig: extractTSConfig(config.options.tsConfig.fileName) },
);
const report = await format(result.output, { outputType: "err" });
process.stdout.write(report.output);

const cycles = folderCycles(result.output.modules);
for (const cycle of cycles) {
  process.stdout.write(`\n  error no-folder-cycles: ${cycle.folders.join(", ")} import each other\n`);
  for (const edge of cycle.edges) process.stdout.write(`      ${edge}\n`);
}
if (cycles.length > 0) {
  process.stdout.write(
    `\n✘ ${cycles.length} folder cycle${cycles.length > 1 ? "s" : ""}: folders that import each other are one concept, ` +
      "or a module sits in the wrong one; move it so the imports run one way.\n",
  );
}
process.exitCode = report.exitCode !== 0 || cycles.length > 0 ? 1 : 0;

/**
 * Cycles between sibling folders. An import a → b counts at the level where their paths part: from
 * lib/train/fit.ts to lib/engine/native/step.ts is lib/train → lib/engine. A file directly in the parting folder
 * (lib/config.ts, lib/index.ts) stands for itself, so a config that imported train/ while train/ imports it is a
 * cycle too. Each strongly connected group of two or more is reported once, with one import for each of its edges.
 */
function folderCycles(modules) {
  const edges = new Map(); // node → Map(node → "a.ts → b.ts")
  for (const m of modules) {
    if (!m.source.startsWith("lib/")) continue;
    for (const d of m.dependencies) {
      if (!d.resolved.startsWith("lib/")) continue;
      const [from, to] = partingNodes(m.source, d.resolved);
      // Two files of one folder: dependency-cruiser's own no-cycles rule sees those.
      if (from === to || (from === m.source && to === d.resolved)) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} → ${d.resolved}`);
    }
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1)
    .map((group) => ({
      folders: group,
      edges: group.flatMap((f) => [...edges.get(f)].filter(([to]) => group.includes(to)).map(([, example]) => example)),
    }));
}

/** The two sibling nodes under the deepest folder both paths share. */
function partingNodes(a, b) {
  const pa = a.split("/");
  const pb = b.split("/");
  let i = 0;
  while (i < pa.length - 1 && i < pb.length - 1 && pa[i] === pb[i]) i++;
  return [pa.slice(0, i + 1).join("/"), pb.slice(0, i + 1).join("/")];
}

/** Tarjan's strongly connected components of the node graph. */
function stronglyConnected(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const groups = [];
  const visit = (v) => {
    index.set(v, index.size);
    low.set(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return groups;
}
