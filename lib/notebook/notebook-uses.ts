/**
 * What a notebook will use, read from its cells, so the kernel prepares only that while it starts:
 * - the dataset, read ahead on a worker thread (../data/prefetch) for notebooks that load it: the read-ahead holds
 *   about 270 MB for up to 10 minutes, which notebooks 01, 03, 05, 09 and 10 never use;
 * - danfojs, loaded for notebooks that build tables: it takes 0.65-2 s to require (mathjs, xlsx), which the first
 *   table cell (05's printHistory, 08's confusedPairsDataFrame) paid in front of the reader.
 * The kernel decides at start from the notebook file when it knows it (Jupyter's server and the notebook runner name
 * it in JPY_SESSION_NAME); for the dataset it also decides at the first cell that mentions loadData (the import cell,
 * in the notebooks) when it does not.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The library function the read-ahead serves (lib/runs/experiment.ts's loadData), as a cell names it. */
const LOAD_DATA = /\bloadData\b/;
/**
 * The library's functions that build a danfojs DataFrame (printHistory, comparisonTable and every `…DataFrame`
 * export), or danfojs itself. test/unit/notebook-uses.test.ts checks that the library's exports that load danfojs
 * all match.
 */
const TABLES = /\b(printHistory|comparisonTable|\w*DataFrame)\b|danfojs-node/;

/** Whether a cell's source calls or imports loadData. */
export function loadsData(source: string): boolean {
  return LOAD_DATA.test(source);
}

/** Whether a cell's source builds a table (a library function that returns or prints a DataFrame, or danfojs). */
export function buildsTables(source: string): boolean {
  return TABLES.test(source);
}

/**
 * The notebook the kernel serves: JPY_SESSION_NAME, which Jupyter's server sets to the notebook's path relative to its
 * root (the kernel's working directory is the notebook's folder) and the notebook runner to its absolute path.
 */
export function sessionNotebook(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const name = env.JPY_SESSION_NAME;
  if (!name?.endsWith(".ipynb")) return undefined;
  const candidates = path.isAbsolute(name) ? [name] : [path.resolve(cwd, name), path.resolve(cwd, path.basename(name))];
  return candidates.find((f) => fs.existsSync(f));
}

interface NotebookJson {
  cells?: { cell_type?: string; source?: string | string[] }[];
}

/** Whether any code cell of the .ipynb `file` passes `uses`; undefined when the file cannot be read as a notebook. */
function anyCodeCell(file: string, uses: (source: string) => boolean): boolean | undefined {
  try {
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as NotebookJson;
    if (!Array.isArray(nb.cells)) return undefined;
    return nb.cells.some((c) => c.cell_type === "code" && uses(Array.isArray(c.source) ? c.source.join("") : (c.source ?? "")));
  } catch {
    return undefined;
  }
}

/** Whether any code cell of the .ipynb `file` mentions loadData; undefined when the file cannot be read as a notebook. */
export function notebookLoadsData(file: string): boolean | undefined {
  return anyCodeCell(file, loadsData);
}

/** Whether any code cell of the .ipynb `file` builds a table; undefined when the file cannot be read as a notebook. */
export function notebookBuildsTables(file: string): boolean | undefined {
  return anyCodeCell(file, buildsTables);
}
