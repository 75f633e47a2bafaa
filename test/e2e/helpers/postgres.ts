import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./net";

/**
 * The folder of the PostgreSQL server programs (initdb, pg_ctl): pg_config's, else the newest of Debian's
 * /usr/lib/postgresql/<version>/bin (apt-get install postgresql; scripts/setup.sh installs it).
 */
export function postgresBin(): string {
  const debian = fs.existsSync("/usr/lib/postgresql")
    ? fs
        .readdirSync("/usr/lib/postgresql")
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => path.join("/usr/lib/postgresql", v, "bin"))
    : [];
  const fromPgConfig = (() => {
    try {
      return [execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()];
    } catch {
      return [];
    }
  })();
  const bin = [...fromPgConfig, ...debian].find((dir) => fs.existsSync(path.join(dir, "initdb")));
  if (!bin)
    throw new Error(
      `no PostgreSQL server programs: neither pg_config --bindir nor /usr/lib/postgresql/*/bin has initdb; apt-get install postgresql`,
    );
  return bin;
}

export interface LocalPostgres {
  url: string;
  port: number;
  stop: () => void;
}

// initdb refuses to run as root: as root the server runs as the postgres user, in a folder it owns.
const asServerUser = (cmd: string, args: string[]): string[] =>
  process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]].flat() : [cmd, ...args];

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * A throwaway PostgreSQL server on a free loopback port, in a temp folder, trusting local connections;
 * stop() shuts it down and deletes the folder. The study database is "studies", user "postgres".
 */
export async function startPostgres(): Promise<LocalPostgres> {
  const bin = postgresBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-pg-"));
  const data = path.join(dir, "data");
  const log = path.join(dir, "server.log");
  if (process.getuid?.() === 0) fs.chownSync(dir, Number(sh(["id", "-u", "postgres"]).trim()), Number(sh(["id", "-g", "postgres"]).trim()));
  sh(asServerUser(`${bin}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]));
  // Another process may take the free port before the server binds it: then try another one.
  let port = 0;
  for (let attempt = 1; !port; attempt++) {
    const candidate = await freePort();
    try {
      sh(
        asServerUser(`${bin}/pg_ctl`, [
          "-D",
          data,
          "-l",
          log,
          "-o",
          `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1`,
          "-w",
          "start",
        ]),
      );
      port = candidate;
    } catch (err) {
      if (attempt === 3) {
        const server = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "(no server log)";
        throw new Error(`PostgreSQL did not start on three free ports:\n${server}`, { cause: err });
      }
    }
  }
  sh(asServerUser(`${bin}/createdb`, ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "studies"]));
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/studies`,
    port,
    stop: () => {
      try {
        sh(asServerUser(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
