import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Debian's PostgreSQL 15 server programs (apt-get install postgresql; scripts/setup.sh installs it). */
export const PG_BIN = "/usr/lib/postgresql/15/bin";

export interface LocalPostgres {
  url: string;
  stop: () => void;
}

// initdb refuses to run as root: as root the server runs as the postgres user, in a folder it owns.
const asServerUser = (cmd: string, args: string[]): string[] =>
  process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]].flat() : [cmd, ...args];

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * A throwaway PostgreSQL server on the loopback at `port`, in a temp folder, trusting local connections;
 * stop() shuts it down and deletes the folder. The study database is "studies", user "postgres".
 */
export function startPostgres(port: number): LocalPostgres {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) fs.chownSync(dir, Number(sh(["id", "-u", "postgres"]).trim()), Number(sh(["id", "-g", "postgres"]).trim()));
  sh(asServerUser(`${PG_BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]));
  sh(
    asServerUser(`${PG_BIN}/pg_ctl`, [
      "-D",
      data,
      "-l",
      path.join(dir, "server.log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      "-w",
      "start",
    ]),
  );
  sh(asServerUser(`${PG_BIN}/createdb`, ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "studies"]));
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/studies`,
    stop: () => {
      try {
        sh(asServerUser(`${PG_BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
