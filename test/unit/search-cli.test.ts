import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fa-search-cli-"));

/** `fashion-ann search` from the sources, on a space file with `content`: its exit status and its stderr. */
function search(content: string, ...flags: string[]): { status: number | null; stderr: string } {
  const file = path.join(tmp, `space-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, content);
  const args = [
    "-r",
    "./test/load-sources.cjs",
    "lib/cli/main.ts",
    "search",
    "--space",
    file,
    "--max-epochs",
    "1",
    "--out",
    path.join(tmp, "out"),
    ...flags,
  ];
  const child = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  return { status: child.status, stderr: child.stderr };
}

describe("search refuses a bad space file or pruner before any trial, in one sentence", () => {
  it("exits 1 for invalid JSON and for an unknown field alike (bad input), naming the file or the field", () => {
    expect(search('{"learningRate": ')).toEqual({
      status: 1,
      stderr: expect.stringMatching(/^fashion-ann: --space .*\.json: not JSON \(.*\)\n$/),
    });
    expect(search('{"learningRate": {"type": "float", "min": 0.1, "max": 1, "foo": 2}}')).toEqual({
      status: 1,
      stderr: expect.stringMatching(/^fashion-ann: learningRate: unknown field "foo" for a float; allowed: .*"sampling"\n$/),
    });
  });

  it("names a misspelt choice value with the allowed ones, and Hyperband refuses --pruner (a bad flag: exit 2)", () => {
    expect(search('{"optimizer": {"type": "Choice", "values": ["adam", "nadamm"]}}')).toEqual({
      status: 1,
      stderr: expect.stringMatching(
        /^fashion-ann: optimizer: "nadamm" in "values" is not a valid optimizer; allowed: "sgd", .*"nadam".*\n$/,
      ),
    });
    expect(search('{"optimizer": {"type": "choice", "values": ["adam"]}}', "--tuner", "hyperband", "--pruner", "asha")).toEqual({
      status: 2,
      stderr: expect.stringMatching(
        /^fashion-ann: --pruner asha: Hyperband stops trials by its own rounds .*; drop --pruner or use --tuner random\n$/,
      ),
    });
  });
});
