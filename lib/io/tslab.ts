// Whether this process is a tslab (Jupyter TypeScript) kernel: notebooks get inline output and keep running after SIGINT.

/** True inside a tslab kernel: its Jupyter module is loaded in this process. */
export function inTslabKernel(): boolean {
  return findTslabJupyterModule() !== undefined;
}

/** The path of tslab's dist/jupyter.js if the running process is a tslab kernel. */
export function findTslabJupyterModule(): string | undefined {
  return Object.keys(require.cache).find((p) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(p));
}
