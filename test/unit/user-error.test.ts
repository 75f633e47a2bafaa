import { describe, expect, it } from "vitest";
import { BenchError } from "../../lib/bench/report";
import { errorReport, exitCodeOf } from "../../lib/cli/main";
import { ConfigError, resolveConfig } from "../../lib/config";
import { DownloadError } from "../../lib/data/download";
import { DatasetError } from "../../lib/data/idx";
import { ImageInputError } from "../../lib/data/png-input";
import { BackendError } from "../../lib/engine/backend";
import { enableWasmThreads } from "../../lib/engine/wasm/threads";
import { isUserError, UserError } from "../../lib/errors/user-error";
import { FigureError } from "../../lib/figures/figure";
import { DaemonUnavailable } from "../../lib/figures/render/render-client";
import { RenderError } from "../../lib/figures/render/render-error";
import { NDArrayError } from "../../lib/format/ndarray";
import { PathError } from "../../lib/io/fs-errors";
import { KerasFormatError } from "../../lib/keras/errors";
import { ModelFileError } from "../../lib/model/files";
import { SummaryError } from "../../lib/model/summary";
import { NotebookError } from "../../lib/notebook/execute";
import { TfjsVersionError } from "../../lib/optimizers/tfjs-internals";
import { confusionMatrix } from "../../lib/results/metrics";
import { historyFromCsv } from "../../lib/results/history";
import { TrainingInterrupted } from "../../lib/runs/interrupted";
import { RunError } from "../../lib/runs/run";
import { ObjectiveError, objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace, SearchSpaceError } from "../../lib/search/core/space";
import { StudyStorageError } from "../../lib/search/storage";
import { tensorBoardExecutable } from "../../lib/tensorboard/server";
import { CheckpointError, readPointer } from "../../lib/train/callbacks/checkpoint";
import { TrainingError } from "../../lib/train/fit";
import { LrFinderError } from "../../lib/train/lr-finder";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The error `fn` throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

async function rejected(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

const damagedPointer = (): unknown => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fa-ue-"));
  fs.writeFileSync(path.join(dir, "last.json"), "{ not json");
  return thrown(() => readPointer(dir, "last"));
};

// One row per area: the error as the library throws it (or constructs it, where causing it needs a browser, a
// network or a kernel), its class, and its name.
const CASES: [string, () => unknown | Promise<unknown>, abstract new (...a: never[]) => Error][] = [
  ["ConfigError", () => thrown(() => resolveConfig({ epochs: 0 }, {})), ConfigError],
  ["PathError", () => new PathError("/x does not exist; check the path", "/x", "ENOENT"), PathError],
  ["RunError", () => new RunError("runs/a has no config.json, so it is not a run folder"), RunError],
  ["CheckpointError", damagedPointer, CheckpointError],
  ["SearchSpaceError", () => thrown(() => parseSearchSpace({ nope: { type: "int", min: 1, max: 2 } }, ["epochs"])), SearchSpaceError],
  ["ObjectiveError", () => thrown(() => objectiveFor("f1")), ObjectiveError],
  ["StudyStorageError", () => new StudyStorageError("the study was created with another search space"), StudyStorageError],
  ["TfjsVersionError", () => new TfjsVersionError("tfjs 4.22 expected"), TfjsVersionError],
  ["KerasFormatError", () => new KerasFormatError("model.keras is not a Keras 3 archive"), KerasFormatError],
  ["DatasetError", () => new DatasetError("magic 2049, expected 2051"), DatasetError],
  ["DownloadError", () => new DownloadError("could not download"), DownloadError],
  ["ImageInputError", () => new ImageInputError("x.png: expected a 28x28 grayscale PNG"), ImageInputError],
  ["BackendError", () => new BackendError('backend "tpu" is not a backend'), BackendError],
  ["WasmThreadsError", () => rejected(() => enableWasmThreads(0)), UserError],
  ["ModelFileError", () => new ModelFileError("model.json is damaged"), ModelFileError],
  ["SummaryError", () => new SummaryError("column too narrow"), SummaryError],
  ["NDArrayError", () => new NDArrayError("shape [2] expected"), NDArrayError],
  ["FigureError", () => new FigureError("no history"), FigureError],
  ["RenderError", () => new RenderError("Chromium is missing"), RenderError],
  ["DaemonUnavailable", () => new DaemonUnavailable("no daemon"), DaemonUnavailable],
  ["HistoryError", () => thrown(() => historyFromCsv("epoch,loss\n1,abc\n")), UserError],
  ["MetricsError", () => thrown(() => confusionMatrix([0], [0], [])), UserError],
  ["TensorBoardMissing", () => thrown(() => tensorBoardExecutable("/nonexistent-root")), UserError],
  ["TrainingError", () => new TrainingError("loss became NaN at epoch 1, batch 3", 1, 3), TrainingError],
  ["LrFinderError", () => new LrFinderError("bad range"), LrFinderError],
  ["NotebookError", () => new NotebookError("03_model.ipynb: cell 2 failed", "03_model.ipynb", 2, ""), NotebookError],
  ["BenchError", () => new BenchError("no runs"), BenchError],
];

describe("UserError: every area's error is one sentence for the user", () => {
  it.each(CASES)("%s is a UserError, printed as its message alone with exit 1", async (name, make, cls) => {
    const err = await make();
    expect(err).toBeInstanceOf(cls);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).name).toBe(name);
    const printed = errorReport(err);
    expect(printed).toBe(`fashion-ann: ${(err as Error).message}`);
    expect(printed).not.toMatch(/\n\s+at |This is a bug/);
    expect(exitCodeOf(err)).toBe(name === "ConfigError" ? 2 : 1);
  });

  it("TrainingInterrupted is one too, with the signal's exit code", () => {
    const err = new TrainingInterrupted("stopped by SIGTERM", "SIGTERM");
    expect(isUserError(err)).toBe(true);
    expect(errorReport(err)).toBe("fashion-ann: stopped by SIGTERM");
    expect(exitCodeOf(err)).toBe(143);
  });

  it("a plain Error or a TypeError is a bug: its stack and where to report it", () => {
    for (const err of [new Error("invariant broken"), new TypeError("x is undefined")]) {
      const printed = errorReport(err);
      expect(printed).toMatch(/\n\s+at /);
      expect(printed).toMatch(/This is a bug in fashion-ann/);
      expect(isUserError(err)).toBe(false);
    }
  });

  it("a raw file-system error is said in one sentence", () => {
    const err = Object.assign(new Error("ENOENT: no such file or directory, open '/nope/x'"), { code: "ENOENT", path: "/nope/x" });
    expect(errorReport(err)).toBe("fashion-ann: /nope/x does not exist; check the path");
  });
});
