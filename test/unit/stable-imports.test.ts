import { describe, expect, it } from "vitest";
import { createLeanConverter } from "../../lib/notebook/lean-builder";
import { stableImports } from "../../lib/notebook/stable-imports";

const FIXTURES = "./test/fixtures/stable-imports";

describe("stableImports", () => {
  it("gives each module one alias in order of first use, keeps the header once, and rewrites typeof import(...)", () => {
    const stabilize = stableImports();
    const first = stabilize('declare const a: import("./x").A;\ndeclare const b: typeof import("./y");\n');
    expect(first).toBe(
      'import type * as __tslab_ns0__ from "./x";\nimport type * as __tslab_ns1__ from "./y";\n' +
        "declare const a: __tslab_ns0__.A;\ndeclare const b: typeof __tslab_ns1__;\n",
    );
    // tslab carries the header over (it is a declaration like any other); a new cell's inline import of ./x reuses ns0.
    const second = stabilize(`declare const c: import("./x").C<import("./z").Z>;\n${first}`);
    expect(second.match(/^import type .*$/gm)).toEqual([
      'import type * as __tslab_ns0__ from "./x";',
      'import type * as __tslab_ns1__ from "./y";',
      'import type * as __tslab_ns2__ from "./z";',
    ]);
    expect(second).toContain("declare const c: __tslab_ns0__.C<__tslab_ns2__.Z>;");
  });
});

describe("the kernel's converter with stable imports", () => {
  it("carries a cell's inferred types of other modules to later cells: same checks, a header that grows only with a new module", () => {
    const converter = createLeanConverter({ isJS: false, isBrowser: false });
    let prev = "";
    const run = (src: string) => {
      const result = converter.convert(prev, src);
      prev = result.declOutput ?? prev;
      return result.diagnostics.map((d) => d.messageText);
    };
    expect(run(`import { box } from "${FIXTURES}/shapes";\nimport { red } from "${FIXTURES}/colors";`)).toEqual([]);
    expect(run("const b = box(3);")).toEqual([]);
    expect(prev).toMatch(/declare const b: __tslab_ns0__\.Box;/);
    const header = () => prev.match(/^import type .*$/gm);
    expect(header()).toEqual([`import type * as __tslab_ns0__ from "${FIXTURES}/shapes";`]);
    expect(run("const wide = box(b.width * 2);")).toEqual([]);
    expect(header()).toHaveLength(1);
    // The carried type is the module's own: a wrong use of it is still an error, a right one is not.
    expect(run("const label: string = b.width;")).toEqual([expect.stringMatching(/'number' is not assignable to type 'string'/)]);
    expect(run("const c = red();\nconst w: number = wide.width;")).toEqual([]);
    expect(header()).toEqual([
      `import type * as __tslab_ns0__ from "${FIXTURES}/shapes";`,
      `import type * as __tslab_ns1__ from "${FIXTURES}/colors";`,
    ]);
    expect(run("const n: string = c.name;")).toEqual([]);
    converter.close();
  });
});
