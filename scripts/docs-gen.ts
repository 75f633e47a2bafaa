/** `npm run docs:gen`: rewrites the generated blocks of docs/ (config tables, CLI options) from the code. */
import * as fs from "node:fs";
import * as path from "node:path";
import { generatedPages } from "./docs/reference";

const root = path.resolve(__dirname, "..");
for (const [file, text] of generatedPages(root)) {
  const target = path.join(root, file);
  if (fs.readFileSync(target, "utf8") === text) continue;
  fs.writeFileSync(`${target}.tmp`, text);
  fs.renameSync(`${target}.tmp`, target);
  console.log(`docs:gen: rewrote ${file}`);
}
