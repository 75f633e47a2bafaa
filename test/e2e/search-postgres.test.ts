import * as fs from "node:fs";
import * as path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace, spaceHash } from "../../lib/search/core/space";
import { SqlStudyStore, type StudyDefinition } from "../../lib/search/storage";
import { MIGRATIONS } from "../../lib/search/storage/schema";
import { openPostgres } from "../../lib/search/storage/postgres";
import { TunerSpec } from "../../lib/search/tuner";
import {
  betweenEpochs,
  readTrials,
  type SearchFixture,
  searchArgs,
  startSearchFixture,
  startSearchWorker,
  untilTrial,
} from "./helpers/search";
import { CLI, run } from "./spawn";

// Three workers on one study in a real PostgreSQL server (Debian's), one of them SIGKILLed mid-trial; the study
// must end as a single worker's study with the same seed does. Tiny model, 4 trials x 2 epochs.
let fixture: SearchFixture;
beforeAll(async () => {
  fixture = await startSearchFixture("search-pg-");
});
afterAll(() => fixture?.stop());

const options = (study: string) => ({
  space: fixture.space,
  storage: fixture.server.url,
  study,
  out: path.join(fixture.dir, study),
  maxTrials: 4,
  heartbeatTimeout: 6,
});
const trials = (study: string) => readTrials(fixture.server.url, study);

/** Runs `sql` on a new database `name` of the server; returns its URL. */
async function databaseWith(name: string, sql: string[]): Promise<string> {
  const admin = new pg.Client({ connectionString: fixture.server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = fixture.server.url.replace(/\/studies$/, `/${name}`);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const statement of sql) await c.query(statement);
  } finally {
    await c.end();
  }
  return url;
}

/** The layout fashion-ann wrote before the study database had a schema version. */
const UNVERSIONED_LAYOUT = [
  `CREATE TABLE fa_studies (name text PRIMARY KEY, space_hash text NOT NULL, definition jsonb NOT NULL, final_owner text,
    created_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE fa_trials (study text NOT NULL REFERENCES fa_studies(name) ON DELETE CASCADE, id text NOT NULL,
    idx integer NOT NULL, params jsonb NOT NULL, status text NOT NULL, bracket integer NOT NULL, round integer NOT NULL,
    epochs_target integer NOT NULL, history jsonb NOT NULL DEFAULT '[]', metrics jsonb NOT NULL DEFAULT '{}', owner text,
    heartbeat_at timestamptz, claims integer NOT NULL DEFAULT 0, PRIMARY KEY (study, id))`,
  `CREATE TABLE fa_checkpoint_files (study text NOT NULL, id text NOT NULL, name text NOT NULL, data bytea NOT NULL,
    PRIMARY KEY (study, id, name), FOREIGN KEY (study, id) REFERENCES fa_trials(study, id) ON DELETE CASCADE)`,
];

describe("search with its study in PostgreSQL", () => {
  it("three workers, one killed mid-trial: every trial completes once and the results equal one worker's", async () => {
    const solo = await run(process.execPath, searchArgs(options("solo")), { timeout: 10 * 60_000 });
    expect(solo.status, solo.stderr).toBe(0);

    const workers = [0, 1, 2].map(() => startSearchWorker(options("shared")));
    // Kill the worker of the first trial that has recorded its first epoch (of two).
    const caught = await untilTrial(fixture.server.url, "shared", "its first epoch", betweenEpochs);
    const victim = { id: caught.id, pid: Number(caught.owner!.split(":")[1]) };
    const killed = workers.find((w) => w.child.pid === victim.pid)!;
    killed.kill();
    const codes = await Promise.all(workers.map((w) => w.done));
    expect(codes.filter((c) => c === 0)).toHaveLength(2);

    const shared = await trials("shared");
    expect(shared.map((t) => [t.id, t.status, t.history.length])).toEqual(
      ["trial-000", "trial-001", "trial-002", "trial-003"].map((id) => [id, "completed", 2]),
    );
    // The victim's trial was claimed twice (killed, then resumed after epoch 1 by another worker); the rest once.
    expect(shared.map((t) => t.claims)).toEqual(shared.map((t) => (t.id === victim.id ? 2 : 1)));
    const survivors = workers
      .filter((w) => w !== killed)
      .map((w) => w.log())
      .join("");
    expect(survivors).toMatch(new RegExp(`${victim.id}: continue epochs 2\\.\\.2`));
    // Each trial is reported completed exactly once over all workers' logs.
    for (const t of shared)
      expect(
        workers
          .map((w) => w.log())
          .join("")
          .match(new RegExp(`${t.id}: completed`, "g")),
      ).toHaveLength(1);
    // Same seed, same draws, same training (one thread each, resume equals an uninterrupted run): same results.
    const alone = await trials("solo");
    expect(shared.map((t) => [t.id, t.params, t.history])).toEqual(alone.map((t) => [t.id, t.params, t.history]));
    // Wall seconds per trial are the one column that differs from run to run.
    const table = (study: string) =>
      fs
        .readFileSync(path.join(fixture.dir, study, "trials.csv"), "utf8")
        .split("\n")
        .map((line) => line.split(",").slice(0, -1).join(","));
    expect(table("shared")[0]).toBe("trial,status,learningRate,epochs run,val_accuracy,best epoch");
    expect(table("shared")).toEqual(table("solo"));
  });

  it("refuses the same study name with another search space, in one sentence", async () => {
    fs.writeFileSync(fixture.space, JSON.stringify({ batchSize: { type: "choice", values: [32, 64] } }));
    const r = await run(process.execPath, searchArgs(options("solo")), { timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^fashion-ann: study "solo" in postgresql://postgres@127\\.0\\.0\\.1:${fixture.server.port}/studies exists with another search space .*; use the same space file, or another --study name with its own --out$`,
      ),
    );
  });

  it("an unreachable server and wrong credentials are one sentence each", async () => {
    const args = (url: string) => [
      CLI,
      "search",
      "--space",
      fixture.space,
      "--max-epochs",
      "1",
      "--storage",
      url,
      "--out",
      path.join(fixture.dir, "x"),
    ];
    const down = await run(process.execPath, args("postgresql://postgres@127.0.0.1:1/studies"), { timeout: 60_000 });
    expect(down.stderr.trim()).toMatch(
      /^fashion-ann: cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\); check that the server runs/,
    );
    const nodb = await run(process.execPath, args(`postgresql://postgres@127.0.0.1:${fixture.server.port}/nosuch`), { timeout: 60_000 });
    expect(nodb.stderr.trim()).toMatch(
      new RegExp(`^fashion-ann: PostgreSQL at 127\\.0\\.0\\.1:${fixture.server.port} has no database "nosuch"`),
    );
  });

  it("a study written before schema versions opens and is migrated to the latest version; a newer database is refused in one sentence", async () => {
    const space = parseSearchSpace({ learningRate: { type: "float", min: 0.003, max: 0.1, log: true } }, ["learningRate"]);
    const def: StudyDefinition = {
      name: "old",
      tuner: TunerSpec.parse({ kind: "random", maxTrials: 2, maxEpochs: 2, seed: 7 }),
      space,
      objective: objectiveFor("val_accuracy"),
      fixed: {},
    };
    const { name: _, ...definition } = def;
    const legacy = await databaseWith("legacy", [
      ...UNVERSIONED_LAYOUT,
      `INSERT INTO fa_studies (name, space_hash, definition) VALUES ('old', '${spaceHash(space)}', '${JSON.stringify(definition)}')`,
      `INSERT INTO fa_trials (study, id, idx, params, status, bracket, round, epochs_target, history, metrics, claims)
         VALUES ('old', 'trial-000', 0, '{"learningRate": 0.01}', 'completed', 0, 0, 2, '[0.5, 0.6]', '{"val_accuracy": [0.5, 0.6]}', 1)`,
    ]);
    const store = await SqlStudyStore.open(await openPostgres(legacy), def);
    try {
      expect((await store.load()).trials.map((t) => [t.id, t.status, t.history])).toEqual([["trial-000", "completed", [0.5, 0.6]]]);
      expect(await store.claim("A", 60)).toMatchObject({ kind: "start", trialId: "trial-001" });
    } finally {
      await store.close();
    }
    const c = new pg.Client({ connectionString: legacy });
    await c.connect();
    expect((await c.query("SELECT version FROM fa_schema_version").finally(() => c.end())).rows).toEqual([{ version: MIGRATIONS.length }]);

    const newer = await databaseWith("newer", [
      "CREATE TABLE fa_schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL)",
      "INSERT INTO fa_schema_version (version) VALUES (99)",
    ]);
    const args = searchArgs({ ...options("x"), storage: newer });
    const r = await run(process.execPath, args, { timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^fashion-ann: the study database in postgresql://postgres@127\\.0\\.0\\.1:${fixture.server.port}/newer has schema version 99, newer than this fashion-ann's ${MIGRATIONS.length}; open it with the fashion-ann that wrote it, or upgrade$`,
      ),
    );
  });
});
