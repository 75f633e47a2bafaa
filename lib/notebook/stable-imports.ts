/**
 * The declarations tslab carries from cell to cell (its `__prev__.d.ts`), with every module they refer to imported once
 * at the top instead of inline. tslab's declaration emit writes a variable's inferred type as an inline import type
 * (`declare const cmFig: import("../dist/lib").Figure;`), one per variable, so the declarations' list of imported
 * modules grew or changed order with almost every cell. TypeScript reuses the previous program completely only when
 * no file's imports changed; otherwise it walks and resolves all ~1,000 declaration files of the program again
 * (tfjs's included): about a third of a cell's compile time. Here each module gets one namespace alias, in order of
 * first use, so the list changes only when a cell refers to a module no earlier cell did. Types are unchanged:
 * `__tslab_ns0__.Figure` names the same type as `import("../dist/lib").Figure`.
 */

/** The header lines this adds; removed and written again on each cell, since tslab carries them over itself. */
const HEADER_LINE = /^import type \* as __tslab_ns\d+__ from "[^"\n]*";\n/gm;
const INLINE_IMPORT = /\bimport\("([^"\n]+)"\)/g;

/** Returns the rewrite for one converter: its aliases live as long as it does (a kernel session). */
export function stableImports(): (declarations: string) => string {
  const aliases = new Map<string, string>();
  return (declarations) => {
    const body = declarations.replace(HEADER_LINE, "").replace(INLINE_IMPORT, (_, spec: string) => {
      let alias = aliases.get(spec);
      if (!alias) {
        alias = `__tslab_ns${aliases.size}__`;
        aliases.set(spec, alias);
      }
      return alias;
    });
    const header = [...aliases].map(([spec, alias]) => `import type * as ${alias} from ${JSON.stringify(spec)};\n`).join("");
    return header + body;
  };
}
