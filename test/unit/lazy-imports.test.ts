import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// What a fresh process has loaded after the library's import or a CLI answer, read from its module cache: a heavy
// package imported again at the top of some lib module shows up here, whatever the machine's speed.
const ROOT = path.resolve(__dirname, "../..");

/** Packages (node_modules names) in a fresh Node process's require.cache after `script` ran on lib's sources. */
function packagesLoadedBy(script: string): string[] {
  return loadedBy(script).packages;
}

/** The packages and lib/ files (relative to lib/) in a fresh Node process's require.cache after `script` ran. */
function loadedBy(script: string): { packages: string[]; lib: string[] } {
  const report = `
    const files = Object.keys(require.cache);
    const names = files.map((p) => (p.match(/.*node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/]/) ?? [])[1]);
    const lib = files.filter((p) => !p.includes("node_modules") && p.startsWith(${JSON.stringify(`${ROOT}/lib/`)}));
    const loaded = { packages: [...new Set(names.filter(Boolean))], lib: lib.map((p) => p.slice(${ROOT.length + 5})) };
    process.stderr.write("\\nLOADED " + JSON.stringify(loaded) + "\\n");`;
  const child = spawnSync(
    process.execPath,
    ["-r", "./test/load-sources.cjs", "-e", `(async () => { ${script} })().then(() => { ${report} });`],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  const line = child.stderr.split("\n").find((l) => l.startsWith("LOADED "));
  if (!line) throw new Error(`the child reported nothing (exit ${child.status}): ${child.stderr}`);
  return JSON.parse(line.slice("LOADED ".length)) as { packages: string[]; lib: string[] };
}

// A second or more each, and none of them needed to import the library or answer --help.
const HEAVY = ["danfojs-node", "mathjs", "playwright-core", "nodeplotlib", "pg", "@electric-sql/pglite", "table"];

describe("heavy packages load on first use", () => {
  it('importing the library (lib/index.ts, what `import ... from "fashion-ann"` runs) loads none of them', () => {
    const loaded = packagesLoadedBy(`require("./lib/index.ts");`);
    expect(loaded).toContain("@tensorflow/tfjs"); // the check sees packages at all
    expect(loaded.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it("the CLI's --help and a bad flag load no command implementation (no tfjs either)", () => {
    const loaded = packagesLoadedBy(`
      const { main } = require("./lib/cli/main.ts");
      const codes = [await main(["node", "fashion-ann", "--help"]), await main(["node", "fashion-ann", "train", "--epochs", "x"])];
      if (codes.join() !== "0,2") throw new Error("unexpected exit codes " + codes);`);
    expect(loaded).toContain("commander");
    expect(loaded.filter((p) => [...HEAVY, "@tensorflow/tfjs", "@tensorflow/tfjs-core"].includes(p))).toEqual([]);
  });

  it("the kernel loads danfojs ahead for a notebook that builds tables (05), not for one that does not (02)", () => {
    const run = (notebook: string) =>
      packagesLoadedBy(`
        const { preloadTables } = require("./lib/notebook/kernel.ts");
        const notebooks = require("node:path").join(process.cwd(), "notebooks");
        preloadTables(notebooks, { JPY_SESSION_NAME: require("node:path").join(notebooks, ${JSON.stringify(notebook)}) });`);
    expect(run("05_learning_curves.ipynb")).toContain("danfojs-node");
    expect(run("02_explore_and_plot.ipynb")).not.toContain("danfojs-node");
  });

  it("importing the config loads no engine: no @tensorflow package, and no lib module outside lib/config/ (and the error base)", () => {
    const loaded = loadedBy(`require("./lib/config/index.ts");`);
    expect(loaded.packages).toContain("zod"); // the check sees packages at all
    expect(loaded.packages.filter((p) => p.startsWith("@tensorflow/"))).toEqual([]);
    expect(loaded.lib).toContain("config/index.ts");
    expect(loaded.lib.filter((f) => !f.startsWith("config/"))).toEqual(["errors/user-error.ts"]);
  });
});
