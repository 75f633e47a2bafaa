import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import { SearchWorker, trialDir } from "../../lib/search/driver";
import { ensureTrialCheckpoint, readCheckpointFiles } from "../../lib/search/trial-checkpoint";
import { objectiveFor } from "../../lib/search/core/objective";
import { applyAction, type StudyState } from "../../lib/search/core/study";
import { parseSearchSpace, spaceHash } from "../../lib/search/core/space";
import { TunerSpec } from "../../lib/search/tuner";
import { connectionProblem, MIGRATIONS, migrate, type SqlDatabase, SqlStudyStore, type StudyDefinition } from "../../lib/search/storage";
import { openPglite } from "../../lib/search/storage/pglite";
import { openPostgres } from "../../lib/search/storage/postgres";
import { repairFromRunFolders } from "../../lib/search/repair";

const fields = ["learningRate", "batchSize", "hiddenUnits"];
const space = parseSearchSpace({ learningRate: { type: "float", min: 0.001, max: 0.1, log: true } }, fields);
const def = (name: string, maxTrials = 3): StudyDefinition => ({
  name,
  tuner: TunerSpec.parse({ kind: "random", maxTrials, maxEpochs: 2, seed: 7 }),
  space,
  objective: objectiveFor("val_accuracy"),
  fixed: { hiddenUnits: [16] },
});

let dir: string;
let db: SqlDatabase;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "study-"));
  db = await openPglite(path.join(dir, "study.pgdata"));
}, 60_000);
afterAll(async () => {
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("SqlStudyStore on the embedded database (PGlite)", () => {
  it("a re-run repairs a trial recorded failed whose run folder completed (trial.json and history.json), and only that one", async () => {
    const store = await SqlStudyStore.open(db, def("repair", 2));
    const out = path.join(dir, "repair");
    for (const [id, onDisk] of [
      ["trial-000", "completed"],
      ["trial-001", "failed"],
    ] as const) {
      expect((await store.claim("A", 60)).kind).toBe("start");
      await store.finish("A", id, "failed");
      fs.mkdirSync(trialDir(out, id), { recursive: true });
      fs.writeFileSync(path.join(trialDir(out, id), "trial.json"), JSON.stringify({ id, status: onDisk }));
      const history = { val_accuracy: [0.5, 0.7], val_loss: [0.9, null] };
      fs.writeFileSync(path.join(trialDir(out, id), "history.json"), JSON.stringify({ epoch: [0, 1], history }));
    }
    expect(await repairFromRunFolders(store, out)).toEqual(["trial-000"]);
    const { trials } = await store.load();
    expect(trials.map((t) => [t.id, t.status, t.history])).toEqual([
      ["trial-000", "completed", [0.5, 0.7]],
      ["trial-001", "failed", []],
    ]);
    expect(trials[0]!.metrics.val_loss).toEqual([0.9, Number.NaN]);
    // Nothing left to repair.
    expect(await repairFromRunFolders(store, out)).toEqual([]);
  });

  it("hands each trial to one worker, waits while trials run, and is done when all finished", async () => {
    const store = await SqlStudyStore.open(db, def("claims"));
    const a = await store.claim("A", 60);
    const b = await store.claim("B", 60);
    const c = await store.claim("A", 60);
    expect([a, b, c].map((x) => (x.kind === "start" ? x.trialId : x.kind))).toEqual(["trial-000", "trial-001", "trial-002"]);
    expect((await store.claim("B", 60)).kind).toBe("wait");
    // Only the owner may record or finish a trial.
    expect((await store.recordEpochs("B", "trial-000", [0.5], {})).owned).toBe(false);
    expect(await store.finish("B", "trial-000", "completed")).toBe(false);
    for (const [w, id] of [
      ["A", "trial-000"],
      ["B", "trial-001"],
      ["A", "trial-002"],
    ] as const) {
      expect((await store.recordEpochs(w, id, [0.5, 0.6], { val_accuracy: [0.5, 0.6] })).owned).toBe(true);
      expect(await store.finish(w, id, "completed")).toBe(true);
    }
    expect((await store.claim("B", 60)).kind).toBe("done");
    const { trials } = await store.load();
    expect(trials.map((t) => [t.id, t.status, t.claims, t.history])).toEqual([
      ["trial-000", "completed", 1, [0.5, 0.6]],
      ["trial-001", "completed", 1, [0.5, 0.6]],
      ["trial-002", "completed", 1, [0.5, 0.6]],
    ]);
    // Trial i's params are the seeded draw i, whoever claimed it.
    expect(a.kind === "start" && a.params).toEqual(trials[0]!.params);
  });

  it("takes back a trial whose worker stopped heartbeating, and resumes it after its last recorded epoch", async () => {
    const store = await SqlStudyStore.open(db, def("takeover", 1));
    expect((await store.claim("A", 60)).kind).toBe("start");
    await store.recordEpochs("A", "trial-000", [0.7], { val_accuracy: [0.7] });
    expect(await store.heartbeat("A", "trial-000")).toBe(true);
    // With a 60 s timeout A is alive: B must wait.
    expect((await store.claim("B", 60)).kind).toBe("wait");
    // With a 0 s timeout A's last heartbeat is stale: B gets the trial from epoch 1.
    expect(await store.claim("B", 0)).toEqual({ kind: "continue", trialId: "trial-000", fromEpoch: 1, toEpoch: 2, round: 0 });
    expect(await store.heartbeat("A", "trial-000")).toBe(false);
    expect(await store.recordEpochs("A", "trial-000", [0.7, 0.8], {})).toEqual({ owned: false, stop: false });
    expect(await store.finish("A", "trial-000", "completed")).toBe(false);
    await store.recordEpochs("B", "trial-000", [0.7, 0.9], { val_accuracy: [0.7, 0.9] });
    expect(await store.finish("B", "trial-000", "completed")).toBe(true);
    const [t] = (await store.load()).trials;
    expect([t!.status, t!.owner, t!.claims, t!.history]).toEqual(["completed", null, 2, [0.7, 0.9]]);
  });

  it("a released trial (Ctrl-C) is handed out again first", async () => {
    const store = await SqlStudyStore.open(db, def("released", 2));
    await store.claim("A", 60);
    await store.recordEpochs("A", "trial-000", [0.6], {});
    expect(await store.finish("A", "trial-000", "released")).toBe(true);
    expect(await store.claim("B", 60)).toMatchObject({ kind: "continue", trialId: "trial-000", fromEpoch: 1 });
  });

  it("keeps a diverged epoch (NaN) as NaN", async () => {
    const store = await SqlStudyStore.open(db, def("nan", 1));
    await store.claim("A", 60);
    await store.recordEpochs("A", "trial-000", [Number.NaN], { val_loss: [Number.NaN] });
    const [t] = (await store.load()).trials;
    expect(t!.history).toEqual([Number.NaN]);
    expect(t!.metrics.val_loss).toEqual([Number.NaN]);
  });

  it("refuses a study name that exists with another search space or tuner, in one sentence", async () => {
    await SqlStudyStore.open(db, def("mismatch"));
    const other = parseSearchSpace({ learningRate: { type: "float", min: 0.01, max: 0.1 } }, fields);
    await expect(SqlStudyStore.open(db, { ...def("mismatch"), space: other })).rejects.toThrow(
      /^study "mismatch" in .* exists with another search space \(sha256 \w{12}, this one \w{12}\); use the same space file, or another --study name with its own --out$/,
    );
    const reseeded = { ...def("mismatch"), tuner: TunerSpec.parse({ kind: "random", maxTrials: 3, maxEpochs: 2, seed: 8 }) };
    await expect(SqlStudyStore.open(db, reseeded)).rejects.toThrow(/exists with tuner .*"seed":7.*this command gives .*"seed":8/);
  });

  it("continues a study with another trial budget (Keras Tuner's max_trials, Optuna's n_trials): only maxTrials may change", async () => {
    const first = await SqlStudyStore.open(db, def("budget", 3));
    const more = await SqlStudyStore.open(db, def("budget", 5));
    let state: StudyState = { space, objective: objectiveFor("val_accuracy"), trials: [] };
    for (let i = 0; i < 3; i++) {
      const action = first.tuner.sampler.nextAction(state);
      expect(more.tuner.sampler.nextAction(state)).toEqual(action); // the same draws, whatever the budget
      if (action.kind !== "start") throw new Error(`trial ${i}: expected a start, got ${action.kind}`);
      state = applyAction(state, action);
    }
    expect(first.tuner.sampler.nextAction(state).kind).not.toBe("start");
    expect(more.tuner.sampler.nextAction(state)).toMatchObject({ kind: "start", trialId: "trial-003" });
  });

  it("retrains the best trial again after a study is continued with more trials (it may have another best)", async () => {
    const store = await SqlStudyStore.open(db, def("retrain", 2));
    expect(await store.claimFinal("A")).toBe(true);
    expect(await (await SqlStudyStore.open(db, def("retrain", 2))).claimFinal("B")).toBe(false);
    const more = await SqlStudyStore.open(db, def("retrain", 4));
    expect(await more.claimFinal("B")).toBe(true);
    expect(await (await SqlStudyStore.open(db, def("retrain", 4))).claimFinal("C")).toBe(false);
  });

  it("only one worker retrains the best trial", async () => {
    const store = await SqlStudyStore.open(db, def("final"));
    expect(await store.claimFinal("A")).toBe(true);
    expect(await store.claimFinal("B")).toBe(false);
    await store.releaseFinal("A");
    expect(await store.claimFinal("B")).toBe(true);
  });
});

describe("PostgreSQL connection problems", () => {
  const url = "postgresql://alice:secret@db.example:5433/studies";
  it("say in one sentence what to check, without the password", () => {
    expect(connectionProblem({ code: "ECONNREFUSED" }, url)).toMatch(
      /^cannot reach PostgreSQL at db\.example:5433 \(ECONNREFUSED\); check that the server runs .* postgresql:\/\/alice:\*\*\*@db\.example:5433\/studies/,
    );
    expect(connectionProblem({ code: "28P01", message: 'password authentication failed for user "alice"' }, url)).toMatch(
      /^PostgreSQL at db\.example:5433 refused user "alice" .*; check the user and password/,
    );
    expect(connectionProblem({ code: "3D000" }, url)).toMatch(/has no database "studies"; create it \(createdb studies\)/);
    expect(connectionProblem({ code: "XX000" }, url)).toBeUndefined();
    expect(connectionProblem({ code: "ECONNREFUSED" }, url)).not.toMatch(/secret/);
  });

  it("an unreachable server is refused with that sentence", async () => {
    // Port 1 on the loopback: nothing listens there.
    await expect(openPostgres("postgresql://u:p@127.0.0.1:1/db")).rejects.toThrow(
      /^cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
  });
});

describe("a trial's checkpoint in the study database", () => {
  /** A run folder as `train` leaves it after epoch 1: config, pointers, one epoch folder. */
  function fakeTrialFolder(dir: string): void {
    const epoch = path.join(dir, "checkpoints", "epoch-001");
    fs.mkdirSync(epoch, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ hiddenUnits: [16] }));
    fs.writeFileSync(path.join(epoch, "model.json"), '{"modelTopology":{}}');
    fs.writeFileSync(path.join(epoch, "weights.bin"), Buffer.from([0, 1, 2, 255, 254, 0, 7]));
    fs.writeFileSync(path.join(epoch, "optimizer.json"), "{}");
    fs.writeFileSync(path.join(epoch, "optimizer.bin"), Buffer.from([9, 8, 7]));
    const pointer = JSON.stringify({ epoch: 0, dir: "epoch-001", history: { history: { val_accuracy: [0.5] } } });
    fs.writeFileSync(path.join(dir, "checkpoints", "last.json"), pointer);
    fs.writeFileSync(path.join(dir, "checkpoints", "best.json"), pointer);
    // A pruned epoch folder no pointer names is not stored.
    fs.mkdirSync(path.join(dir, "checkpoints", "epoch-000"));
  }
  const tree = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const visit = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) visit(p);
        else out[path.relative(dir, p)] = fs.readFileSync(p).toString("hex");
      }
    };
    visit(dir);
    return out;
  };

  it("a trial released by worker A resumes on worker B in another --out folder from the stored checkpoint", async () => {
    const store = await SqlStudyStore.open(db, def("handover", 1));
    const outA = path.join(dir, "machine-a");
    const outB = path.join(dir, "machine-b");
    const a = await store.claim("A", 60);
    expect(a).toMatchObject({ kind: "start", trialId: "trial-000" });
    const dirA = trialDir(outA, "trial-000");
    fakeTrialFolder(dirA);
    await store.recordEpochs("A", "trial-000", [0.5], { val_accuracy: [0.5] });
    const files = readCheckpointFiles(dirA)!;
    expect(Object.keys(files).sort()).toEqual([
      "checkpoints/best.json",
      "checkpoints/epoch-001/model.json",
      "checkpoints/epoch-001/optimizer.bin",
      "checkpoints/epoch-001/optimizer.json",
      "checkpoints/epoch-001/weights.bin",
      "checkpoints/last.json",
      "config.json",
    ]);
    expect(await store.saveCheckpoint("A", "trial-000", files)).toBe(true);
    expect(await store.finish("A", "trial-000", "released")).toBe(true);

    const b = await store.claim("B", 60);
    expect(b).toMatchObject({ kind: "continue", trialId: "trial-000", fromEpoch: 1 });
    const dirB = trialDir(outB, "trial-000");
    expect(fs.existsSync(dirB)).toBe(false);
    expect(await ensureTrialCheckpoint(store, "trial-000", dirB)).toBe("restored");
    const { "checkpoints/epoch-000": _, ...expected } = { ...tree(dirA), "checkpoints/epoch-000": "" };
    expect(tree(dirB)).toEqual(expected);
    // Restored once, the folder is B's own from then on.
    expect(await ensureTrialCheckpoint(store, "trial-000", dirB)).toBe("local");
  });

  it("only the trial's owner replaces its stored checkpoint, and a trial never checkpointed has none", async () => {
    const store = await SqlStudyStore.open(db, def("owner-only", 2));
    await store.claim("A", 60);
    await store.claim("B", 60);
    const files = { "checkpoints/last.json": new Uint8Array([1]) };
    expect(await store.saveCheckpoint("B", "trial-000", files)).toBe(false);
    expect(await store.loadCheckpoint("trial-000")).toBeUndefined();
    expect(await ensureTrialCheckpoint(store, "trial-001", path.join(dir, "nowhere", "trial-001"))).toBe(false);
    expect(await store.saveCheckpoint("A", "trial-000", files)).toBe(true);
    expect(await store.loadCheckpoint("trial-000")).toEqual(files);
  });
});

/** The layout fashion-ann wrote before the study database had a schema version (CREATE TABLE IF NOT EXISTS only). */
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

describe("the study database's schema version", () => {
  /**
   * Runs `fn` on the shared database as if it were a new one: in a schema of its own, first on the search path (a
   * second embedded database would cost seconds to create).
   */
  const fresh = async (schema: string, fn: (d: SqlDatabase) => Promise<void>): Promise<void> => {
    await db.query(`CREATE SCHEMA ${schema}`);
    await db.query(`SET search_path TO ${schema}`);
    try {
      await fn(db);
    } finally {
      await db.query("SET search_path TO public");
    }
  };
  const version = async (d: SqlDatabase): Promise<number> =>
    (await d.query<{ version: number }>("SELECT version FROM fa_schema_version")).rows[0]!.version;

  it("a new database gets every migration and the version row", async () => {
    expect(await version(db)).toBe(MIGRATIONS.length);
  });

  it("a study written before schema versions opens, is migrated to the latest version, and carries on", async () => {
    await fresh("unversioned", async (old) => {
      for (const statement of UNVERSIONED_LAYOUT) await old.query(statement);
      const d = def("legacy", 2);
      const definition = { tuner: d.tuner, space: d.space, objective: d.objective, fixed: d.fixed };
      await old.query("INSERT INTO fa_studies (name, space_hash, definition) VALUES ($1, $2, $3)", [
        "legacy",
        spaceHash(space),
        definition,
      ]);
      await old.query(
        `INSERT INTO fa_trials (study, id, idx, params, status, bracket, round, epochs_target, history, metrics, claims)
           VALUES ('legacy', 'trial-000', 0, $1, 'completed', 0, 0, 2, '[0.5, 0.6]', '{"val_accuracy": [0.5, 0.6]}', 1)`,
        [{ learningRate: 0.01 }],
      );
      const store = await SqlStudyStore.open(old, d);
      expect(await version(old)).toBe(MIGRATIONS.length);
      const [t] = (await store.load()).trials;
      expect([t!.id, t!.status, t!.history, t!.metrics, t!.seconds]).toEqual([
        "trial-000",
        "completed",
        [0.5, 0.6],
        { val_accuracy: [0.5, 0.6] },
        0,
      ]);
      expect(await store.claim("A", 60)).toMatchObject({ kind: "start", trialId: "trial-001" });
    });
  });

  it("a later migration runs once, in order; code that knows fewer versions then refuses the database in one sentence", async () => {
    await fresh("versions", async (d) => {
      const latest = MIGRATIONS.length;
      const next = [
        ...MIGRATIONS,
        { version: latest + 1, description: "a note per trial", statements: ["ALTER TABLE fa_trials ADD COLUMN note text"] },
      ];
      expect(await migrate(d)).toEqual({ from: 0, to: latest });
      expect(await migrate(d, next)).toEqual({ from: latest, to: latest + 1 });
      expect(await migrate(d, next)).toEqual({ from: latest + 1, to: latest + 1 });
      expect((await d.query("SELECT note FROM fa_trials")).rows).toEqual([]);
      await expect(SqlStudyStore.open(d, def("newer"))).rejects.toThrow(
        new RegExp(
          `^the study database in .*study\\.pgdata has schema version ${latest + 1}, newer than this fashion-ann's ${latest}; open it with the fashion-ann that wrote it, or upgrade$`,
        ),
      );
      await expect(migrate(d, [next[1]!])).rejects.toThrow(/^migration 0 has version 2, expected 1/);
    });
  });
});

describe("a trial's epochs, as its trainer reports them", () => {
  /** The trainer's side of the IPC channel: messages in, signals recorded. */
  class FakeTrainer extends EventEmitter {
    signals: string[] = [];
    kill(signal: string): boolean {
      this.signals.push(signal);
      return true;
    }
    report(history: Record<string, number[]>): void {
      this.emit("message", { kind: "fashion-ann/epochs", history });
    }
  }
  type Watch = { pruned: boolean; lost: boolean; history?: number[]; settled(): Promise<void>; stop(): void };

  it("epochs are recorded in order up to the first one the pruner prunes, and the trainer is stopped there", async () => {
    const pruning = { kind: "median", minTrials: 1, warmupEpochs: 0 };
    const store = await SqlStudyStore.open(db, {
      ...def("reports", 2),
      tuner: TunerSpec.parse({ kind: "random", maxTrials: 2, maxEpochs: 4, seed: 7, pruning }),
    });
    const log: string[] = [];
    const worker = new SearchWorker(store, { out: dir, parallel: 1, log: (s) => log.push(s), intervalSeconds: 60, timeoutSeconds: 60 });
    // trial-000 completed with 0.9 at every epoch: the median the next trial is held to.
    await store.claim(worker.id, 60);
    await store.recordEpochs(worker.id, "trial-000", [0.9, 0.9, 0.9, 0.9], { val_accuracy: [0.9, 0.9, 0.9, 0.9] });
    await store.finish(worker.id, "trial-000", "completed");
    const action = await store.claim(worker.id, 60);
    const trainer = new FakeTrainer();
    const watch = (worker as unknown as { watch: (...a: unknown[]) => Watch }).watch(
      trainer,
      action,
      trialDir(dir, "nowhere"),
      (s: string) => log.push(s),
    );
    // Three epochs at once, faster than the database records them: none is skipped or recorded out of order, and
    // none after the prune (the trainer was already past it): the trial is kept as it was when judged.
    const curve = [0.2, 0.3, 0.4];
    for (let e = 1; e <= 3; e++) trainer.report({ val_accuracy: curve.slice(0, e), loss: curve.slice(0, e) });
    await watch.settled();
    watch.stop();
    expect(watch.pruned).toBe(true);
    expect(trainer.signals).toEqual(["SIGTERM"]);
    expect(log).toEqual(["pruned after epoch 1 (median stopping)"]);
    const t = (await store.load()).trials.find((x) => x.id === "trial-001")!;
    expect([t.history, t.metrics.loss]).toEqual([[0.2], [0.2]]);
  });
});
