// The generated parts of docs/ (config tables from the zod schema, command options from commander) must match the
// code: a page that disagrees fails here, and `npm run docs:gen` brings it up to date.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { configFieldTable, generatedPages, replaceBlock } from "../../scripts/docs/reference";

const root = path.resolve(__dirname, "../..");

describe("generated docs", () => {
  it.each([...generatedPages(root)])("%s matches the code", (file, expected) => {
    const onDisk = fs.readFileSync(path.join(root, file), "utf8");
    expect(onDisk === expected, `${file} disagrees with the code: run \`npm run docs:gen\` and commit the result`).toBe(true);
  });

  it("lists every config field with its flag and default", () => {
    const table = configFieldTable();
    expect(table).toContain("| `epochs` | `--epochs` | `fit(epochs=)` | `30` |");
    expect(table).toContain("| `hiddenUnits` | `--hidden` |");
  });

  it("refuses a page whose markers are missing, naming the file", () => {
    expect(() => replaceBlock("# no markers\n", "docs/x.md", "cli-options", "")).toThrow(
      /docs\/x\.md has no .*generated:cli-options begin/,
    );
  });
});
