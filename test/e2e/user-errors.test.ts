import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { runCli } from "./spawn";

// Bad input, as a new user meets it from the command line: one sentence on stderr, no stack, the right exit code.
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fa-user-errors-"));
const oneSentence = (stderr: string) => {
  expect(stderr).not.toMatch(/\n\s+at |This is a bug/);
  expect(
    stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("(run with --help")),
  ).toHaveLength(1);
};

describe("the CLI on bad input", () => {
  it("search --objective f1: exit 2 and a sentence naming the allowed metrics", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "space.json"), JSON.stringify({ learningRate: { type: "float", min: 0.001, max: 0.1 } }));
    const r = await runCli(
      ["search", "--space", path.join(dir, "space.json"), "--max-epochs", "1", "--out", path.join(dir, "s"), "--objective", "f1"],
      {
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--objective <metric>' argument 'f1' is invalid\. Allowed choices are val_accuracy, val_loss, accuracy, loss/);
    oneSentence(r.stderr);
    expect(fs.existsSync(path.join(dir, "s"))).toBe(false);
  }, 90_000);

  it("train --resume with a damaged checkpoints/last.json: exit 1 and one sentence naming the file, the run kept", async () => {
    const run = path.join(tmp(), "run");
    fs.mkdirSync(path.join(run, "checkpoints", "epoch-001"), { recursive: true });
    fs.writeFileSync(path.join(run, "config.json"), JSON.stringify(resolveConfig({ epochs: 2, hiddenUnits: [8] }, {})));
    fs.writeFileSync(path.join(run, "checkpoints", "last.json"), '{"dir": "epoch-0');
    const r = await runCli(["train", "--resume", run], { timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/checkpoints\/last\.json is damaged \(.*\)/);
    oneSentence(r.stderr);
    expect(fs.readFileSync(path.join(run, "checkpoints", "last.json"), "utf8")).toBe('{"dir": "epoch-0');
    expect(fs.existsSync(path.join(run, "checkpoints", "epoch-001"))).toBe(true);
  }, 150_000);
});
