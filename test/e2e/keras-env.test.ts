// The Keras reference environment (python/keras.txt in .venv): the test server starts once, and the versions it
// reports are the pinned ones, so every Keras comparison runs against the Keras the project names.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../lib/io/paths";
import { KerasServer, kerasTestsRun } from "../keras/server";

const pins = Object.fromEntries(
  fs
    .readFileSync(path.join(projectRoot(), "python", "keras.txt"), "utf8")
    .split("\n")
    .filter((line) => /^[A-Za-z]/.test(line))
    .map((line) => line.split("==") as [string, string]),
);

describe.runIf(kerasTestsRun("keras-env.test.ts"))("Keras reference environment", () => {
  let keras: KerasServer;
  beforeAll(async () => {
    keras = await KerasServer.start();
  });
  afterAll(async () => {
    await keras?.close();
  });

  it("runs the pinned Keras on the pinned TensorFlow", async () => {
    const v = await keras.call<{ keras: string; tensorflow: string; backend: string }>("versions");
    expect(v).toEqual({ keras: pins.keras, tensorflow: pins["tensorflow-cpu"], backend: "tensorflow" });
  });

  it("reports a failed request as one line and keeps serving", async () => {
    await expect(keras.call("summary", { model: "/nonexistent/model.keras" })).rejects.toThrow(/^Keras: \w+Error: .*model\.keras/);
    await expect(keras.call("versions")).resolves.toHaveProperty("keras", pins.keras);
  });
});
