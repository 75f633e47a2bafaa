// What the PostgreSQL search tests share (search-hosts, search-db-lost, search-postgres): a throwaway server with a
// temp folder and a one-parameter space, the worker's command line, workers as child process groups, and the study's
// trials read straight from the database.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pg from "pg";
import { CLI, ROOT } from "../spawn";
import { type LocalPostgres, startPostgres } from "./postgres";

/** The space every PostgreSQL search test searches: one log-uniform learning rate, so trials differ but train alike. */
export const LEARNING_RATE_SPACE = { learningRate: { type: "float", min: 0.003, max: 0.1, log: true } };

export interface SearchFixture {
  server: LocalPostgres;
  /** The temp folder: space.json and every study's --out. */
  dir: string;
  /** dir/space.json, holding LEARNING_RATE_SPACE. */
  space: string;
  /** Stops the server and deletes both folders. */
  stop: () => void;
}

/** A PostgreSQL server and a temp folder `<prefix>XXXX` with space.json, for one test file (beforeAll). */
export async function startSearchFixture(prefix: string): Promise<SearchFixture> {
  const server = await startPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const space = path.join(dir, "space.json");
  fs.writeFileSync(space, JSON.stringify(LEARNING_RATE_SPACE));
  return {
    server,
    dir,
    space,
    stop: () => {
      try {
        server.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A search on the study's default storage (the embedded database in --out). */
export interface SearchOptions {
  space: string;
  maxTrials: number;
  /** --max-epochs (default 2). */
  maxEpochs?: number;
  /** --out; left out when the caller adds it itself (a script that puts it on a disk of its own). */
  out?: string;
  /** More flags, after the shared ones (e.g. --parallel 2, --storage-retry 3). */
  extra?: string[];
}

/** A worker of a PostgreSQL study shared with other workers. */
export interface WorkerOptions extends SearchOptions {
  storage: string;
  study: string;
  out: string;
  /** Seconds without a heartbeat (sent every second) after which another worker takes a trial over. */
  heartbeatTimeout: number;
}

const isWorker = (o: SearchOptions | WorkerOptions): o is WorkerOptions => "storage" in o;

/**
 * `node dist/lib/cli/main.js search ...` (without node): the space, `maxTrials` trials of `maxEpochs` epochs, no
 * retraining of the best. A PostgreSQL worker (WorkerOptions) also draws at random and trains a 16-unit model on wasm
 * (its seconds-long epochs let a test catch a trial between its two epochs), heartbeating every second.
 */
export function searchArgs(o: SearchOptions | WorkerOptions): string[] {
  const worker = isWorker(o)
    ? ["--tuner", "random", "--hidden", "16", "--backend", "wasm", "--storage", o.storage, "--study", o.study]
    : [];
  const heartbeat = isWorker(o) ? ["--heartbeat", "1", "--heartbeat-timeout", String(o.heartbeatTimeout)] : [];
  return [
    CLI,
    "search",
    "--space",
    o.space,
    "--max-trials",
    String(o.maxTrials),
    "--max-epochs",
    String(o.maxEpochs ?? 2),
    ...worker,
    ...(o.out === undefined ? [] : ["--out", o.out]),
    ...heartbeat,
    "--no-retrain",
    ...(o.extra ?? []),
  ];
}

export interface Worker {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  log: () => string;
  /** The exit code, or -1 when a signal ended it. */
  done: Promise<number | null>;
  /** SIGKILLs its process group (the worker and its trainers, as a lost machine would), if it still runs. */
  kill: () => void;
}

/** Starts `command args` (cwd ROOT, `env` added to this process's) in its own process group, collecting its output. */
export function startWorker(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Worker {
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let log = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (log += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
  let exited = false;
  const done = new Promise<number | null>((resolve) =>
    child.on("close", (code, signal) => {
      exited = true;
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  const kill = () => {
    if (exited) return;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return { child, log: () => log, done, kill };
}

/** `node dist/lib/cli/main.js search ...` in its own process group (searchArgs), `env` added to this process's. */
export const startSearchWorker = (o: SearchOptions | WorkerOptions, env: NodeJS.ProcessEnv = {}): Worker =>
  startWorker(process.execPath, searchArgs(o), env);

export interface TrialRow {
  id: string;
  status: string;
  params: Record<string, unknown>;
  history: number[];
  /** "host:pid" of the worker holding it. */
  owner: string | null;
  claims: number;
}

/** The study's trials in id order, from the database at `url`; none before a worker has created the tables. */
export async function readTrials(url: string, study: string): Promise<TrialRow[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query("SELECT id, status, params, history, owner, claims FROM fa_trials WHERE study = $1 ORDER BY id", [study])).rows;
  } catch (err) {
    if ((err as { code?: string }).code === "42P01") return [];
    throw err;
  } finally {
    await c.end();
  }
}

/**
 * Polls the study (every 250 ms, up to 10 min) until a trial matches; otherwise throws naming `what`, followed by
 * `context()` (a worker's log, say) as it is then.
 */
export async function untilTrial(
  url: string,
  study: string,
  what: string,
  match: (t: TrialRow) => boolean,
  context: () => string = () => "",
): Promise<TrialRow> {
  for (let polls = 0; polls < 2400; polls++) {
    const found = (await readTrials(url, study).catch(() => [])).find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no trial of study ${study} reached ${what}\n${context()}`);
}

/** A trial of the study has recorded its first epoch of two and is still running: the moment to cut it off. */
export const betweenEpochs = (t: TrialRow): boolean => t.status === "running" && t.history.length === 1;
