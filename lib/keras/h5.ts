// h5wasm (HDF5 compiled to WebAssembly, maintained by the NIST/NCNR h5wasm project) reads and writes the HDF5 files
// Keras keeps weights in. It ships only as an ES module; this CommonJS build would turn `import()` into `require()`,
// which Node 20 cannot use on an ES module, so the import is left to Node itself.
import type * as H5 from "h5wasm";

export type H5Module = typeof H5;

const SPECIFIER = "h5wasm/node";
const nodeImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<H5Module>;
let loaded: Promise<H5Module> | undefined;

async function importH5wasm(): Promise<H5Module> {
  try {
    return await nodeImport(SPECIFIER);
  } catch {
    // Under vitest this file runs in a vm context, where only vitest's own rewrite of a written-out import() works.
    return (await import(SPECIFIER)) as H5Module;
  }
}

/** The h5wasm module, its WebAssembly ready; its files are the real file system's (the package's Node build). */
export function h5wasm(): Promise<H5Module> {
  loaded ??= importH5wasm().then(async (module) => {
    await module.ready;
    return module;
  });
  return loaded;
}
