/**
 * Whether a notebook will load the dataset, so the kernel reads it ahead (../data/prefetch) only for those that do:
 * the read-ahead holds about 270 MB for up to 10 minutes, which notebooks 01, 03, 05, 09 and 10 never use. The kernel
 * decides at start from the notebook file when it knows it (Jupyter's server and the notebook runner name it in
 * JPY_SESSION_NAME), and otherwise at the first cell that mentions loadData (the import cell, in the notebooks).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The library function the read-ahead serves (lib/runs/experiment.ts's loadData), as a cell names it. */
const LOAD_DATA = /\bloadData\b/;

/** Whether a cell's source calls or imports loadData. */
export function loadsData(source: string): boolean {
  return LOAD_DATA.test(source);
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

/** Whether any code cell of the .ipynb `file` mentions loadData; undefined when the file cannot be read as a notebook. */
export function notebookLoadsData(file: string): boolean | undefined {
  try {
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as NotebookJson;
    if (!Array.isArray(nb.cells)) return undefined;
    return nb.cells.some((c) => c.cell_type === "code" && loadsData(Array.isArray(c.source) ? c.source.join("") : (c.source ?? "")));
  } catch {
    return undefined;
  }
}
