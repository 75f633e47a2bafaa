// Heavy packages load when first used, not when "fashion-ann" is imported: a notebook's import cell and every CLI
// command (--help included) would otherwise pay about a second for danfojs (with mathjs, xlsx and request) even when
// they build no table. test/unit/lazy-imports.test.ts checks that importing the library leaves them unloaded.

/**
 * A package's module, required on the first call and cached by Node after that. Pair it with `import type` so the
 * types stay exact and the compiled module has no top-level `require` of the package:
 *
 *     import type * as dfd from "danfojs-node";
 *     const danfo = lazyRequire<typeof dfd>("danfojs-node");
 *     new (danfo().DataFrame)(data)
 *
 * For synchronous call sites; an async function can `await import("pkg")` instead. Package names only: a relative
 * path would resolve against this file, not the caller's.
 */
export function lazyRequire<T>(packageName: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= require(packageName) as T;
    return loaded;
  };
}
