import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { StudyStorageError } from "../../lib/search/storage";
import { openPglite } from "../../lib/search/storage/pglite";
import { lockEmbeddedStudy } from "../../lib/search/storage/study-lock";

// Two `fashion-ann search` on one --out would open one embedded database twice and run the same trials: the second
// is refused in one sentence, and a lock its holder left behind by dying is taken over.
const study = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fa-study-lock-")), "study.pgdata");

describe("the embedded study's lock", () => {
  it("refuses a second opener while the first holds it, naming the holder and the ways out; free again after close", async () => {
    const dir = study();
    const db = await openPglite(dir);
    const second = openPglite(dir);
    await expect(second).rejects.toThrow(StudyStorageError);
    await expect(openPglite(dir)).rejects.toThrow(
      new RegExp(
        `^${path.dirname(dir)} is already being searched by another fashion-ann search \\(pid ${process.pid}, since .*\\); .*--parallel.*--storage$`,
      ),
    );
    await db.close();
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
    const again = await openPglite(dir);
    await again.close();
  }, 240_000);

  it("takes over a lock whose holder died, and one left half-written", () => {
    const dir = study();
    // A pid that no process has: the largest pid the kernel hands out is below 2^22.
    fs.writeFileSync(`${dir}.lock`, JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), since: "earlier" }));
    const release = lockEmbeddedStudy(dir, path.dirname(dir));
    expect(JSON.parse(fs.readFileSync(`${dir}.lock`, "utf8")).pid).toBe(process.pid);
    release();
    fs.writeFileSync(`${dir}.lock`, "{");
    lockEmbeddedStudy(dir, path.dirname(dir))();
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  });

  it("refuses a lock held on another host, saying which file to delete if that host is gone", () => {
    const dir = study();
    fs.writeFileSync(`${dir}.lock`, JSON.stringify({ pid: 1, host: "elsewhere", since: "earlier" }));
    expect(() => lockEmbeddedStudy(dir, path.dirname(dir))).toThrow(
      /pid 1 on elsewhere.*if that host is gone, delete .*study\.pgdata\.lock$/,
    );
  });
});
