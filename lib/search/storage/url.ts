// A --storage URL vetted before any study opens (no database code loaded: the CLI checks flags with it).

/** The URL with its password hidden, for messages and logs; a string that is no URL is returned as is. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/^(\w+:\/\/[^:/@]*):[^@/]*@/, "$1:***@");
  }
}

const EXPECTED = "expected postgresql://user:password@host:port/database, or no --storage for the embedded study in the --out folder";

/**
 * What is wrong with a --storage URL, as the end of a sentence after "--storage <url>: ", or undefined if it has the
 * form of a PostgreSQL URL (whether the server answers is found out when it opens).
 */
export function storageUrlProblem(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(url)) return `not a PostgreSQL URL; ${EXPECTED}`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `not a URL (a port must be a number from 1 to 65535, special characters in the password %-encoded); ${EXPECTED}`;
  }
  if (!u.hostname) return `no host; ${EXPECTED}`;
  if (u.port === "0") return `port 0; ${EXPECTED}`;
  if (u.pathname.replace(/^\//, "") === "") return `no database name after the host; ${EXPECTED}`;
  return undefined;
}
