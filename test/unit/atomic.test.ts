import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../lib/io/atomic";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-atomic-"));

describe("writeFileAtomic", () => {
  it("replaces the file's contents and leaves no temp file", () => {
    const dir = tmp();
    const file = path.join(dir, "a.json");
    writeFileAtomic(file, "old");
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    expect(fs.readdirSync(dir)).toEqual(["a.json"]);
  });

  it("removes the temp files a dead writer left for the same name, keeps a live writer's and other names'", () => {
    const dir = tmp();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const leftovers = [`.a.json.${dead}.1700000000000.tmp`, `.a.json.${live.pid}.1700000000000.tmp`, `.b.json.${dead}.1700000000000.tmp`];
      for (const f of leftovers) fs.writeFileSync(path.join(dir, f), "half");
      writeFileAtomic(path.join(dir, "a.json"), "{}");
      expect(fs.readdirSync(dir).sort()).toEqual(
        [`.a.json.${live.pid}.1700000000000.tmp`, `.b.json.${dead}.1700000000000.tmp`, "a.json"].sort(),
      );
    } finally {
      live.kill("SIGKILL");
    }
  });

  it("leaves the previous file intact when the write fails (target is a folder), removing its temp file", () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, "x"));
    fs.writeFileSync(path.join(dir, "x", "keep"), "k");
    expect(() => writeFileAtomic(path.join(dir, "x"), "data")).toThrow(/x is a folder, expected a file; give the file.s path/);
    expect(fs.readdirSync(dir)).toEqual(["x"]);
    expect(fs.readFileSync(path.join(dir, "x", "keep"), "utf8")).toBe("k");
  });
});
