import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { openPglite } from "../../lib/search/storage/pglite";
import { redactUrl, storageUrlProblem } from "../../lib/search/storage/url";
import { claimStudyFolder, STUDY_FOLDER_FILE } from "../../lib/search/study-folder";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-study-inputs-"));

describe("--storage URL", () => {
  it.each([
    ["sqlite:///x.db", /^not a PostgreSQL URL; expected postgresql:\/\/user:password@host:port\/database/],
    ["postgresql://", /^no host; expected/],
    ["postgresql://u:p@host:notaport/db", /^not a URL \(a port must be a number from 1 to 65535/],
    ["postgresql://u:p@host:5432", /^no database name after the host; expected/],
    ["postgresql://u:p@host:0/db", /^port 0; expected/],
  ])("%s is refused: %s", (url, re) => {
    expect(storageUrlProblem(url)).toMatch(re);
  });
  it.each(["postgresql://u:p@127.0.0.1:5432/optuna", "postgres://localhost/db"])("%s has the form of a PostgreSQL URL", (url) => {
    expect(storageUrlProblem(url)).toBeUndefined();
  });
  it.each([
    ["postgresql://u:secret@host:5432/db", "postgresql://u:***@host:5432/db"],
    ["postgresql://u:secret@host:notaport/db", "postgresql://u:***@host:notaport/db"],
  ])("redactUrl hides the password of %s, URL or not", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe("a study folder belongs to one study", () => {
  it("the first study claims the folder in study.json; the same study passes again", () => {
    const out = tmp();
    claimStudyFolder(out, "a", false);
    expect(JSON.parse(fs.readFileSync(path.join(out, STUDY_FOLDER_FILE), "utf8"))).toEqual({ study: "a" });
    expect(() => claimStudyFolder(out, "a", true)).not.toThrow();
  });
  it("another study name is refused, naming the owner and how to continue it; nothing is written", () => {
    const out = tmp();
    claimStudyFolder(out, "a", false);
    fs.mkdirSync(path.join(out, "trials", "trial-000"), { recursive: true });
    expect(() => claimStudyFolder(out, "b", false)).toThrow(
      new RegExp(`^${out} holds the trials of study "a", and study "b" would train over them .*use --study a to continue that one$`),
    );
    expect(fs.readFileSync(path.join(out, STUDY_FOLDER_FILE), "utf8")).toBe('{"study":"a"}\n');
  });
  it("a folder from before study.json, with run folders its store does not know, is refused", () => {
    const out = tmp();
    for (const id of ["trial-000", "trial-001"]) fs.mkdirSync(path.join(out, "trials", id), { recursive: true });
    expect(() => claimStudyFolder(out, "other", false)).toThrow(
      /holds 2 trial run folder\(s\) \(trial-000, trial-001\) that study "other" does not know/,
    );
    expect(fs.existsSync(path.join(out, STUDY_FOLDER_FILE))).toBe(false);
    // The study that made them (its store has trials) claims it.
    claimStudyFolder(out, "old", true);
    expect(JSON.parse(fs.readFileSync(path.join(out, STUDY_FOLDER_FILE), "utf8"))).toEqual({ study: "old" });
  });
  it("a damaged study.json is named, with the expected form", () => {
    const out = tmp();
    fs.writeFileSync(path.join(out, STUDY_FOLDER_FILE), "{oops");
    expect(() => claimStudyFolder(out, "a", false)).toThrow(
      /study\.json is not a study folder's name file \("\{oops"\); expected \{"study": "<name>"\}/,
    );
  });
});

describe("a damaged embedded study database", () => {
  it("is refused in one StudyStorageError sentence, its files untouched and its lock released", async () => {
    const dir = path.join(tmp(), "study.pgdata");
    const db = await openPglite(dir);
    await db.close();
    const control = path.join(dir, "global", "pg_control");
    const bytes = fs.readFileSync(control);
    bytes.write("garbage", 0);
    fs.writeFileSync(control, bytes);
    const err = await openPglite(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "StudyStorageError" });
    expect((err as Error).message).toMatch(
      new RegExp(`^${dir} is not a study database this program can open \\(.+\\); nothing was changed: restore it from a backup`),
    );
    expect(fs.readFileSync(control)).toEqual(bytes);
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  }, 60_000);
});
