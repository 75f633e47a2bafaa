// The event files this project writes, read by TensorBoard 2.21's own code from .venv: EventAccumulator on a real
// 2-epoch run, a real TensorBoard server answering the scalars and HParams endpoints, and damaged files.
// Without TensorBoard in .venv it is skipped with a note, except under CI=true, where it fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, chromiumPath } from "../../lib/figures/render/browser";
import { historyFromCsv } from "../../lib/results/history";
import { startTensorBoard, type TensorBoardServer } from "../../lib/tensorboard/server";
import { recordTrialSession } from "../../lib/tensorboard/trial-session";
import { EventFileWriter } from "../../lib/tensorboard/writer";
import { freePort } from "./helpers/net";
import { ROOT, run, runCli } from "./spawn";

const python = path.join(ROOT, ".venv", "bin", "python");
const SHOTS = path.join(ROOT, "test-results");
const available = fs.existsSync(path.join(ROOT, ".venv", "bin", "tensorboard"));
const mustRun = process.env.CI === "true";
if (!available && !mustRun) console.warn("tensorboard.test.ts skipped: TensorBoard is not in .venv (npm run setup)");

const out = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tensorboard-"));
const runDir = path.join(out, "run");
const study = path.join(out, "study");
const damaged = path.join(out, "damaged");
type Scalars = Record<string, Record<string, [number, number][]>>;
let scalars: Scalars = {};
let server: TensorBoardServer | undefined;

/** A file with the version record and one scalar record per tag, all at step 0; returns each record's offset. */
function scalarFile(dir: string, tags: string[]): { file: string; starts: number[] } {
  const writer = new EventFileWriter(dir);
  tags.forEach((tag, i) => writer.scalar(tag, i + 1, 0));
  writer.close();
  const bytes = fs.readFileSync(writer.file);
  const starts: number[] = [];
  for (let at = 0; at < bytes.length; at += 16 + Number(bytes.readBigUInt64LE(at))) starts.push(at);
  return { file: writer.file, starts };
}

describe.runIf(available || mustRun)("event files read by TensorBoard 2.21", () => {
  beforeAll(async () => {
    if (!available) throw new Error("CI=true: TensorBoard must be tested, but .venv lacks it; run npm run setup");
    const trained = await runCli(["train", "--epochs", "2", "--no-figures", "--out", runDir]);
    expect(trained.status, trained.stderr).toBe(0);
    // Three trials as the search driver records them: sessions with params, objective per epoch, end status.
    const trials: [string, Record<string, unknown>, string, number[]][] = [
      ["trial-000", { learningRate: 0.03, optimizer: "sgd", hiddenUnits: [300, 100] }, "completed", [0.8, 0.85]],
      ["trial-001", { learningRate: 0.003, optimizer: "adam", hiddenUnits: [100] }, "pruned", [0.7]],
      ["trial-002", { learningRate: 0.3, optimizer: "sgd", hiddenUnits: [100] }, "failed", [0.1]],
    ];
    for (const [id, params, status, history] of trials) {
      const dir = path.join(study, "trials", id);
      recordTrialSession(dir, { params, status: "running", objective: "val_accuracy", history: history.slice(0, 1) });
      recordTrialSession(dir, { params, status, objective: "val_accuracy", history });
    }
    // One byte changed inside the second scalar's record; a file cut in the middle of its last record (a kill).
    const flipped = scalarFile(path.join(damaged, "flipped"), ["kept", "flipped"]);
    const bytes = fs.readFileSync(flipped.file);
    bytes[flipped.starts[2]! + 14]! ^= 0x01;
    fs.writeFileSync(flipped.file, bytes);
    const cut = scalarFile(path.join(damaged, "cut"), ["kept", "cut"]);
    fs.truncateSync(cut.file, fs.statSync(cut.file).size - 5);
    const folders = ["logs/train", "logs/validation"].map((d) => path.join(runDir, d));
    const read = await run(python, [
      path.join(__dirname, "helpers", "tensorboard_scalars.py"),
      ...folders,
      path.join(damaged, "flipped"),
      path.join(damaged, "cut"),
    ]);
    expect(read.status, read.stderr).toBe(0);
    scalars = JSON.parse(read.stdout);
    server = await startTensorBoard([runDir, study], { port: await freePort(), reloadInterval: 1 });
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
  });

  it("EventAccumulator reads every epoch scalar of a 2-epoch run, steps 0 and 1, values equal to history.csv (as float32)", () => {
    const history = historyFromCsv(fs.readFileSync(path.join(runDir, "history.csv"), "utf8"));
    const f32 = (xs: number[]) => xs.map((v, i) => [i, Math.fround(v)]);
    const train = scalars[path.join(runDir, "logs/train")]!;
    const validation = scalars[path.join(runDir, "logs/validation")]!;
    expect(Object.keys(train).sort()).toEqual(["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]);
    expect(train.epoch_loss).toEqual(f32(history.history.loss!));
    expect(train.epoch_accuracy).toEqual(f32(history.history.accuracy!));
    expect(train.epoch_learning_rate).toEqual(f32([0.01, 0.01]));
    expect(Object.keys(validation).sort()).toEqual(["epoch_accuracy", "epoch_loss"]);
    expect(validation.epoch_loss).toEqual(f32(history.history.val_loss!));
    expect(validation.epoch_accuracy).toEqual(f32(history.history.val_accuracy!));
  });

  it("one changed byte in a record drops that record's tag, keeps the one before it, and nothing crashes", () => {
    expect(Object.keys(scalars[path.join(damaged, "flipped")]!)).toEqual(["kept"]);
  });

  it("a file cut inside its last record (a run killed mid-write) reads up to the last whole record", () => {
    expect(scalars[path.join(damaged, "cut")]).toEqual({ kept: [[0, 1]] });
  });

  it("the server's scalars endpoint answers the run's validation epoch_accuracy for both epochs", async () => {
    const tags = await (await fetch(`${server!.url}data/plugin/scalars/tags`)).json();
    expect(Object.keys(tags)).toEqual(expect.arrayContaining(["run/logs/train", "run/logs/validation"]));
    const url = `${server!.url}data/plugin/scalars/scalars?run=${encodeURIComponent("run/logs/validation")}&tag=epoch_accuracy`;
    const points = (await (await fetch(url)).json()) as [number, number, number][];
    expect(points.map(([, step]) => step)).toEqual([0, 1]);
  });

  it("the HParams endpoints list the 3 trials with their params, statuses and objective", async () => {
    const post = async (what: string, body: unknown) =>
      (
        await fetch(`${server!.url}data/plugin/hparams/${what}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "Content-Type": "application/json" },
        })
      ).json();
    const experiment = await post("experiment", { experimentName: "" });
    expect(experiment.hparamInfos.map((h: { name: string }) => h.name).sort()).toEqual(["hiddenUnits", "learningRate", "optimizer"]);
    expect(experiment.metricInfos.map((m: { name: { tag: string } }) => m.name.tag)).toContain("val_accuracy");
    const groups = await post("session_groups", {
      experimentName: "",
      allowedStatuses: ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
      colParams: [],
      startIndex: 0,
      sliceSize: 100,
    });
    const byName = Object.fromEntries(
      groups.sessionGroups.map(
        (g: {
          name: string;
          hparams: Record<string, unknown>;
          sessions: { status: string }[];
          metricValues: { name: { tag: string }; value: number }[];
        }) => [
          g.name,
          {
            hparams: g.hparams,
            status: g.sessions[0]!.status,
            objective: g.metricValues.find((m) => m.name.tag === "val_accuracy")?.value,
          },
        ],
      ),
    );
    expect(byName).toEqual({
      "study/trials/trial-000/logs": {
        hparams: { learningRate: 0.03, optimizer: "sgd", hiddenUnits: "[300,100]" },
        status: "STATUS_SUCCESS",
        objective: Math.fround(0.85),
      },
      "study/trials/trial-001/logs": {
        hparams: { learningRate: 0.003, optimizer: "adam", hiddenUnits: "[100]" },
        status: "STATUS_SUCCESS",
        objective: Math.fround(0.7),
      },
      "study/trials/trial-002/logs": {
        hparams: { learningRate: 0.3, optimizer: "sgd", hiddenUnits: "[100]" },
        status: "STATUS_FAILURE",
        objective: Math.fround(0.1),
      },
    });
  });

  it("in Chromium, the Scalars tab lists the run's train and validation and the HParams table the 3 trials (screenshots in test-results/)", async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.goto(`${server!.url}#scalars`);
      await page.getByText("run/logs/validation", { exact: true }).waitFor({ timeout: 60_000 });
      await page.getByText("epoch_accuracy").first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, "tensorboard-scalars.png") });
      await page.goto(`${server!.url}#hparams`);
      // The Scalars tab stays in the page, hidden, with the same run names: only visible text counts.
      for (const id of ["trial-000", "trial-001", "trial-002"]) {
        await page.getByText(`study/trials/${id}/logs`).filter({ visible: true }).first().waitFor({ timeout: 60_000 });
      }
      await page.getByText("learningRate").filter({ visible: true }).first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, "tensorboard-hparams.png") });
    } finally {
      await browser.close();
    }
  }, 180_000);
});
