import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../errors/user-error";

let root: string | undefined;

/**
 * The project folder: the nearest folder above this module whose package.json is fashion-ann's, so it is
 * right both from lib/ (tests run the TypeScript) and from dist/lib/ (notebooks, CLI).
 */
export function projectRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "fashion-ann") {
      root = dir;
      return root;
    }
    if (path.dirname(dir) === dir)
      throw new UserError(`no fashion-ann package.json above ${__dirname}; is the module installed inside the project?`);
  }
}

/** Relative data and run paths resolve against the project root, so notebooks (cwd notebooks/) and the CLI agree. */
export function projectPath(p: string): string {
  return path.resolve(projectRoot(), p);
}

/** A timestamped run name such as 20261125-101500. */
export function defaultRunName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}
