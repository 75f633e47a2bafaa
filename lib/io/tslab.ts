// Whether this process is a tslab (Jupyter TypeScript) kernel: notebooks get inline output and keep running after SIGINT.

/** True inside a tslab kernel: its Jupyter module is loaded in this process. */
export function inTslabKernel(): boolean {
  return findTslabJupyterModule() !== undefined;
}

/** The path of tslab's dist/jupyter.js if the running process is a tslab kernel. */
export function findTslabJupyterModule(): string | undefined {
  return Object.keys(require.cache).find((p) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(p));
}

/**
 * tslab's display API (`display`, `newDisplay`) from the kernel running this process, or undefined outside one.
 * Looked up through the module cache rather than `require("tslab")` so that library code in dist/ talks to the
 * kernel's own instance, even if node_modules resolution from here would find another copy of tslab.
 */
export function kernelTslab(): typeof import("tslab") | undefined {
  const jupyterModule = findTslabJupyterModule();
  if (!jupyterModule) return undefined;
  return require(jupyterModule.replace(/jupyter\.js$/, "public.js")) as typeof import("tslab");
}
