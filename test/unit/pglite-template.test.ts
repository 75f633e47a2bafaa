import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { copyEmptyCluster } from "../../lib/search/storage/pglite-template";

// A new embedded study copies an empty cluster kept in the cache instead of running initdb (6 CPU s in WebAssembly).
// `create` stands in for PGlite.create here (the storage tests open real copies): it makes a folder with PG_VERSION.
const made: string[] = [];
const tmp = () => {
  made.push(fs.mkdtempSync(path.join(os.tmpdir(), "fa-pglite-template-")));
  return made.at(-1)!;
};
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const saved = process.env.FASHION_ANN_CACHE_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.FASHION_ANN_CACHE_DIR;
  else process.env.FASHION_ANN_CACHE_DIR = saved;
});

function fakeCreate(calls: string[]) {
  return async (dir: string) => {
    calls.push(dir);
    fs.mkdirSync(path.join(dir, "base"), { recursive: true });
    fs.writeFileSync(path.join(dir, "PG_VERSION"), "17\n");
    fs.writeFileSync(path.join(dir, "base", "1"), "catalog");
    return { close: async () => {} };
  };
}

describe("a new study database from the cached empty cluster", () => {
  it("makes the empty cluster once per version, then copies it: same files, no temp folder left", async () => {
    process.env.FASHION_ANN_CACHE_DIR = path.join(tmp(), "cache");
    const calls: string[] = [];
    const a = path.join(tmp(), "study.pgdata");
    const b = path.join(tmp(), "study.pgdata");
    expect(await copyEmptyCluster(a, "9.9.9", fakeCreate(calls))).toBe(true);
    expect(await copyEmptyCluster(b, "9.9.9", fakeCreate(calls))).toBe(true);
    expect(calls).toHaveLength(1);
    expect(path.basename(path.dirname(calls[0]!))).toBe("cache");
    for (const dir of [a, b]) {
      expect(fs.readFileSync(path.join(dir, "base", "1"), "utf8")).toBe("catalog");
      expect(fs.readdirSync(path.dirname(dir))).toEqual(["study.pgdata"]);
    }
    expect(fs.readdirSync(process.env.FASHION_ANN_CACHE_DIR)).toEqual(["pglite-9.9.9-empty"]);
    await copyEmptyCluster(path.join(tmp(), "study.pgdata"), "9.9.10", fakeCreate(calls));
    expect(calls).toHaveLength(2);
  });

  it("sweeps a half copy left beside the study by a killed process", async () => {
    process.env.FASHION_ANN_CACHE_DIR = path.join(tmp(), "cache");
    const dir = path.join(tmp(), "study.pgdata");
    // A pid that no process has: the largest pid the kernel hands out is below 2^22.
    const dead = path.join(path.dirname(dir), `.study.pgdata.${2 ** 22 + 1}.1.tmp`);
    fs.mkdirSync(path.join(dead, "base"), { recursive: true });
    await copyEmptyCluster(dir, "9.9.9", fakeCreate([]));
    expect(fs.readdirSync(path.dirname(dir))).toEqual(["study.pgdata"]);
  });

  it("returns false, touching nothing, when the cache cannot hold the cluster (the caller runs initdb in place)", async () => {
    const file = path.join(tmp(), "not-a-folder");
    fs.writeFileSync(file, "");
    process.env.FASHION_ANN_CACHE_DIR = file;
    const dir = path.join(tmp(), "study.pgdata");
    expect(await copyEmptyCluster(dir, "9.9.9", fakeCreate([]))).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
