import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildsTables, loadsData, notebookBuildsTables, notebookLoadsData, sessionNotebook } from "../../lib/notebook/notebook-uses";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-uses-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A notebook file with these cells ([type, source]); source as Jupyter stores it, a list of lines. */
function notebook(name: string, cells: [string, string][]): string {
  const file = path.join(dir, name);
  const json = { cells: cells.map(([cell_type, source]) => ({ cell_type, source: source.split(/(?<=\n)/) })) };
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

describe("loadsData", () => {
  it("is true for a cell that imports or calls loadData", () => {
    expect(loadsData('import {\n  startNotebook,\n  loadData,\n} from "fashion-ann";')).toBe(true);
    expect(loadsData("const { test } = await loadData(config);")).toBe(true);
  });
  it("is false for loadFashionMnist and for names that only contain loadData", () => {
    expect(loadsData("const raw = await loadFashionMnist({ dataDir });")).toBe(false);
    expect(loadsData("const reloadDataset = 1; myloadData();")).toBe(false);
  });
});

describe("notebookLoadsData", () => {
  it("is true when a code cell mentions loadData", () => {
    const file = notebook("04.ipynb", [
      ["markdown", "# Train"],
      ["code", 'import {\n  loadData,\n} from "fashion-ann";'],
    ]);
    expect(notebookLoadsData(file)).toBe(true);
  });
  it("is false when only a markdown cell mentions it", () => {
    const file = notebook("05.ipynb", [
      ["markdown", "Notebook 04 calls `loadData`."],
      ["code", "const history = run.loadHistory();"],
    ]);
    expect(notebookLoadsData(file)).toBe(false);
  });
  it("is undefined for a missing file or one that is not a notebook", () => {
    expect(notebookLoadsData(path.join(dir, "missing.ipynb"))).toBeUndefined();
    const notJson = path.join(dir, "broken.ipynb");
    fs.writeFileSync(notJson, "{ not json");
    expect(notebookLoadsData(notJson)).toBeUndefined();
  });
});

/** The library's functions that return a danfojs DataFrame, read from its sources. */
function dataFrameFunctions(): string[] {
  const lib = path.resolve(__dirname, "../../lib");
  const files = fs.readdirSync(lib, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  return files.flatMap((f) =>
    [...fs.readFileSync(path.join(lib, f), "utf8").matchAll(/export function (\w+)\([^{]*?\): dfd\.DataFrame \{/g)].map((m) => m[1]!),
  );
}

describe("buildsTables", () => {
  it("is true for every library function that returns a DataFrame, for printHistory and for danfojs itself", () => {
    const names = dataFrameFunctions();
    expect(names).toEqual(expect.arrayContaining(["historyToDataFrame", "confusedPairsDataFrame", "comparisonTable", "trialsDataFrame"]));
    for (const name of names) expect(buildsTables(`${name}(x).print();`), name).toBe(true);
    expect(buildsTables("printHistory(history);")).toBe(true);
    expect(buildsTables('import * as dfd from "danfojs-node";')).toBe(true);
  });
  it("is false for cells that build no table", () => {
    expect(buildsTables("const history = run.loadHistory();")).toBe(false);
    expect(buildsTables("await showInline(learningCurvesFigure(history.history));")).toBe(false);
  });
});

describe("notebookBuildsTables", () => {
  it("is true when a code cell builds a table, false when only markdown mentions one", () => {
    expect(notebookBuildsTables(notebook("05t.ipynb", [["code", "const history = run.loadHistory();\nprintHistory(history);"]]))).toBe(
      true,
    );
    expect(
      notebookBuildsTables(
        notebook("02t.ipynb", [
          ["markdown", "`printHistory` shows it."],
          ["code", "1 + 1"],
        ]),
      ),
    ).toBe(false);
    expect(notebookBuildsTables(path.join(dir, "missing.ipynb"))).toBeUndefined();
  });
});

describe("sessionNotebook", () => {
  const file = notebook("08_error_analysis.ipynb", [["code", "1"]]);
  it("takes an absolute JPY_SESSION_NAME as it is (the notebook runner's)", () => {
    expect(sessionNotebook({ JPY_SESSION_NAME: file }, "/elsewhere")).toBe(file);
  });
  it("finds a server-relative JPY_SESSION_NAME in the kernel's folder (Jupyter's server)", () => {
    expect(sessionNotebook({ JPY_SESSION_NAME: "notebooks/08_error_analysis.ipynb" }, dir)).toBe(file);
  });
  it("is undefined without the variable, for a non-notebook name, or a file that is not there", () => {
    expect(sessionNotebook({}, dir)).toBeUndefined();
    expect(sessionNotebook({ JPY_SESSION_NAME: "console-1" }, dir)).toBeUndefined();
    expect(sessionNotebook({ JPY_SESSION_NAME: "nb/absent.ipynb" }, dir)).toBeUndefined();
  });
});
