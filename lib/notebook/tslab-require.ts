import * as path from "node:path";

/*
 * The kernel patches two of tslab's own dependencies before tslab loads them (its bundled TypeScript, its zeromq):
 * the patch only takes if it lands on the very module objects tslab will get, so they are resolved from tslab's
 * folder, not from the project's, where another copy or version may stand. Resolving loads nothing: tslab's own
 * modules (its converter among them) are not loaded by this, which lean-builder relies on.
 */

/** The file `id` resolves to when tslab's code requires it. */
export function tslabResolve(id: string): string {
  return require.resolve(id, { paths: [path.dirname(require.resolve("tslab/package.json"))] });
}

/** `require(id)` as tslab's own code gets it: the same module object, from Node's module cache once loaded. */
export function tslabRequire<T>(id: string): T {
  return require(tslabResolve(id)) as T;
}
