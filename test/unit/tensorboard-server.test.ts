import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { resolveConfig } from "../../lib/config";
import { overridesFrom, withConfigFlags } from "../../lib/cli/flags";
import { logDirArgs, tensorBoardExecutable } from "../../lib/tensorboard/server";

describe("fashion-ann tensorboard's launcher", () => {
  it("without .venv/bin/tensorboard says in one sentence how to install it", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-notb-"));
    expect(() => tensorBoardExecutable(root)).toThrow(
      /^TensorBoard is not installed in .*\.venv; install it with `bash scripts\/python-env\.sh tensorboard` \(or `npm run setup`\)\.$/,
    );
  });

  it("one folder is --logdir; several are --logdir_spec named by their folder names", () => {
    expect(logDirArgs(["/a/run-1"])).toEqual(["--logdir", "/a/run-1"]);
    expect(logDirArgs(["/a/run-1", "/b/study"])).toEqual(["--logdir_spec", "run-1:/a/run-1,study:/b/study"]);
  });
});

describe("--no-tensorboard", () => {
  const parsed = (args: string[]) => {
    const cmd = withConfigFlags(new Command("train")).exitOverride();
    cmd.parse(args, { from: "user" });
    return overridesFrom(cmd.opts());
  };

  it("sets config tensorBoard to false; without it the config's default (on) stays", () => {
    expect(parsed(["--no-tensorboard"]).tensorBoard).toBe(false);
    expect("tensorBoard" in parsed([])).toBe(false);
    expect(resolveConfig(parsed(["--no-tensorboard"]), {}).tensorBoard).toBe(false);
  });
});
