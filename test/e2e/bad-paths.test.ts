// A new user's bad paths and bad flags, command by command, through the built CLI: each gets one
// sentence naming the path or value (no stack trace) and the exit code of README's table.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, run, runCli } from "./spawn";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-paths-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = path.join(tmp, "a-file");
fs.writeFileSync(file, "x");
const missing = path.join(tmp, "missing");
const notRun = path.join(tmp, "not-a-run");
fs.mkdirSync(notRun);
const runDir = path.join(tmp, "run");
fs.mkdirSync(runDir);
fs.writeFileSync(path.join(runDir, "config.json"), JSON.stringify({ epochs: 1, hiddenUnits: [8] }));

/** Every line of stderr but progress; one sentence means one "fashion-ann:" line and no stack frame. */
function expectOneSentence(stderr: string, re: RegExp): void {
  expect(stderr).toMatch(re);
  expect(stderr).not.toMatch(/\n\s+at \S+ \(|report it/);
}

// Each case is its own CLI process on its own paths (only train --resume locks the run folder, and only one case
// does), so the cases run side by side: most of each one's time is Node loading the CLI.
describe.concurrent("bad paths give one sentence and exit 1", () => {
  it.each([
    ["train --out under a file", ["train", "--out", path.join(file, "run")], /a-file\/run: \S+a-file is a file, expected a folder/],
    ["train --out is a file", ["train", "--out", file], /run folder \S+a-file is a file, expected a folder; choose another --out/],
    ["train --resume missing", ["train", "--resume", missing], /run folder \S+missing does not exist; pass a run folder/],
    ["train --resume a file", ["train", "--resume", file], /run folder \S+a-file is a file, expected a folder/],
    ["train --resume not a run", ["train", "--resume", notRun], /not-a-run has no config.json, so it is not a run folder/],
    ["train --resume no epoch", ["train", "--resume", runDir], /--resume \S+run: no completed epoch to resume from/],
    ["evaluate missing", ["evaluate", missing], /run folder \S+missing does not exist/],
    ["evaluate a file", ["evaluate", file], /run folder \S+a-file is a file, expected a folder/],
    ["evaluate no model", ["evaluate", runDir], /run\/model\/model.json does not exist; train a model first/],
    ["predict missing run", ["predict", missing, "x.png"], /run folder \S+missing does not exist/],
    [
      "predict missing png",
      ["predict", runDir, path.join(tmp, "nope.png")],
      /image \S+nope.png does not exist; give the path of a 28x28 PNG/,
    ],
    ["predict png is a folder", ["predict", runDir, tmp], /image \S+ is a folder, expected a 28x28 PNG file/],
    [
      "predict png is not a png",
      ["predict", runDir, file],
      /\S+a-file: not a PNG \(it does not start with the PNG signature\); expected a 28x28 grayscale PNG/,
    ],
    ["report missing", ["report", missing], /run folder \S+missing does not exist/],
    ["report a file", ["report", file], /run folder \S+a-file is a file, expected a folder/],
    ["compare a file", ["compare", file], /run folder \S+a-file is a file, expected a folder/],
    ["compare not a run", ["compare", notRun], /not-a-run has no config.json/],
    ["notebooks --out under a file", ["notebooks", "--out", path.join(file, "nb")], /a-file is a file, expected a folder/],
    ["sweep --out is a file", ["sweep", "--grid", "epochs=1", "--out", file], /sweep folder \S+a-file is a file, expected a folder/],
    ["sweep --out under a file", ["sweep", "--grid", "epochs=1", "--out", path.join(file, "s")], /a-file is a file, expected a folder/],
  ])(
    "%s",
    async (_case, args, message) => {
      const r = await runCli(args as string[], { timeout: 120_000 });
      expectOneSentence(r.stderr, message as RegExp);
      expect(r.status).toBe(1);
    },
    130_000,
  );

  it("--data-dir that is a file: one sentence about the flag, and the run folder is left empty for a retry", async () => {
    const out = path.join(tmp, "dd");
    const r = await runCli(["train", "--epochs", "1", "--hidden", "8", "--data-dir", file, "--out", out], { timeout: 120_000 });
    expectOneSentence(r.stderr, /dataDir \(--data-dir\) \S+a-file is a file, expected a folder for the dataset/);
    expect(r.stderr.match(/a-file/g)).toHaveLength(1);
    expect(r.status).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
  }, 130_000);

  it("unwritable --out (a read-only mount) says read-only and exits 1", async () => {
    if (process.getuid?.() !== 0) return;
    const ro = fs.mkdtempSync(path.join(tmp, "ro-"));
    const script = `mount -t tmpfs -o ro,size=64k tmpfs "$0" && exec node "$1" train --out "$0/run"`;
    const r = await run("unshare", ["-m", "sh", "-c", script, ro, path.join(ROOT, "dist", "lib", "cli", "main.js")]);
    expectOneSentence(r.stderr, /\S+\/run is on a read-only file system; choose a writable path/);
    expect(r.status).toBe(1);
  }, 60_000);
});

describe.concurrent("the exit-code table", () => {
  it.each([
    [["--help"], 0, /Usage: fashion-ann/],
    [["train", "--help"], 0, /--resume <run>/],
    [["train", "--epochs", "three"], 2, /--epochs expects an integer, got "three"/],
    [["train", "--backend", "gpu"], 2, /Allowed choices are auto, tensorflow, native, wasm, cpu/],
    [["train", "--frobnicate"], 2, /unknown option '--frobnicate'/],
    [["bogus"], 2, /unknown command 'bogus'/],
    [["evaluate"], 2, /missing required argument 'run'/],
    [["train", "--epochs", "0"], 2, /epochs: Too small: expected number to be >=1, got 0/],
    [["train", "--set", "epoch=3"], 2, /unknown config field "epoch"/],
    [["train", "--epochs", "3", "--set", "epochs=4"], 2, /epochs given both as a flag and with --set/],
    [["evaluate", missing], 1, /does not exist/],
  ])(
    "%j exits %i",
    async (args, code, message) => {
      const r = await runCli(args as string[], { timeout: 60_000 });
      expect(r.stdout + r.stderr).toMatch(message as RegExp);
      expect(r.status).toBe(code);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
    70_000,
  );
});
