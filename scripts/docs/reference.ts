/**
 * The generated parts of docs/: the config field tables (from the zod schema), every command's options (from the
 * commander definitions) and the notebooks cell by cell (from the .ipynb files). Each sits in a marked block of a
 * page; `npm run docs:gen` rewrites the blocks and test/unit/docs-reference.test.ts fails when a page and the code
 * disagree.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command, Option } from "commander";
import { z } from "zod";
import { ExperimentConfig } from "../../lib/config";
import { KERAS_LEARNING_RATES } from "../../lib/config/optimizers";
import { LrSchedule } from "../../lib/config/schedules";
import { overridesFrom } from "../../lib/cli/flags";
import { HELP_EXAMPLES } from "../../lib/cli/help-examples";
import { buildCli } from "../../lib/cli/main";
import { notebookCells } from "./notebooks";
import { CONFIG_FIELD_DOCS, type FieldDoc, SCHEDULE_FIELD_DOCS } from "./config-fields";

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
};

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (value: unknown): string => `\`${JSON.stringify(value)}\``;

/** A number range as a reader says it; zod's "no upper bound" for integers (2^53 - 1) is left out. */
function range(s: JsonSchema): string {
  const low = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : "";
  const highValue = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  const high = s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : highValue !== undefined ? `≤ ${highValue}` : "";
  return [low, high].filter(Boolean).join(", ");
}

/** The allowed values of one JSON-schema node, in a table cell's words. */
function allowed(s: JsonSchema): string {
  if (s.enum) return s.enum.map(code).join(", ");
  if (s.const !== undefined) return code(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map(allowed))].join(" or ");
  if (s.type === "array") return `list of ${s.items ? allowed(s.items) : "values"}${s.minItems ? ` (at least ${s.minItems})` : ""}`;
  if (s.type === "object") return "object (below)";
  if (s.type === "null") return "`null`";
  if (s.type === "boolean") return "`true`, `false`";
  if (s.type === "string") return "text";
  const bounds = range(s);
  return `${s.type === "integer" ? "integer" : "number"}${bounds ? ` ${bounds}` : ""}`;
}

function toSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

/** Each config field's command-line flag, found by asking the CLI's own flag-to-field map. */
function flagsByField(): Map<string, string> {
  const train = buildCli().commands.find((c) => c.name() === "train");
  const out = new Map<string, string>();
  for (const option of train?.options ?? []) {
    const fields = Object.keys(overridesFrom({ [option.attributeName()]: option.negate ? false : "x" }));
    for (const field of fields) out.set(field, option.long ?? option.flags);
  }
  return out;
}

function defaultOf(field: string, s: JsonSchema): string {
  if (field === "learningRate") {
    const rates = Object.entries(KERAS_LEARNING_RATES).map(([name, rate]) => `${name} ${rate}`);
    return `Keras's per optimizer: ${rates.join(", ")}`;
  }
  return s.default === undefined ? "required" : code(s.default);
}

function row(name: string, doc: FieldDoc, s: JsonSchema, extra: string[]): string {
  const cells = [`\`${name}\``, ...extra, doc.keras ? `\`${doc.keras}\`` : "", defaultOf(name, s), allowed(s), doc.units ?? "", doc.meaning.replace(/</g, "&lt;")];
  return `| ${cells.map(cell).join(" | ")} |`;
}

/** The config field table: field, flag, Keras name, default, allowed values, units, meaning. */
export function configFieldTable(): string {
  const properties = toSchema(ExperimentConfig).properties ?? {};
  const flags = flagsByField();
  const lines = ["| field | flag | Keras | default | allowed | units | meaning |", "|---|---|---|---|---|---|---|"];
  for (const [field, doc] of Object.entries(CONFIG_FIELD_DOCS)) {
    const s = properties[field];
    if (!s) throw new Error(`scripts/docs/config-fields.ts describes "${field}", which the config schema no longer has`);
    const flag = flags.get(field);
    lines.push(row(field, doc, s, [flag ? `\`${flag}\`` : "`--set`"]));
  }
  const tensorBoard = properties.tensorBoard?.anyOf?.find((s) => s.type === "object");
  for (const [field, s] of Object.entries(tensorBoard?.properties ?? {})) {
    const doc = { histogramFreq: { keras: "histogram_freq", units: "epochs", meaning: "weight histograms every N epochs; 0 = none" } }[field] ?? {
      keras: "update_freq",
      units: "steps",
      meaning: '"epoch": epoch scalars only; N: also batch scalars every N steps',
    };
    lines.push(row(`tensorBoard.${field}`, doc, s, ["`--set`"]));
  }
  return lines.join("\n");
}

/** The schedule table: every lrSchedule type's fields with Keras's names and units. */
function scheduleFieldTable(): string {
  const lines = ["| type | field | Keras | default | allowed | units | meaning |", "|---|---|---|---|---|---|---|"];
  for (const variant of toSchema(LrSchedule).oneOf ?? []) {
    const type = String(variant.properties?.type?.const);
    const docs = SCHEDULE_FIELD_DOCS[type];
    if (!docs) throw new Error(`scripts/docs/config-fields.ts has no SCHEDULE_FIELD_DOCS entry for schedule "${type}"`);
    for (const [field, s] of Object.entries(variant.properties ?? {})) {
      if (field === "type") continue;
      const doc = docs[field];
      if (!doc) throw new Error(`scripts/docs/config-fields.ts has no entry for lrSchedule ${type}.${field}`);
      lines.push(row(field, doc, s, [`\`${type}\``]));
    }
  }
  return lines.join("\n");
}

/** Plain text in a table cell: `<dir>` would read as an HTML tag. */
const text = (words: string): string => cell(words).replace(/</g, "&lt;");

/** Whether an option is a config field's flag (listed once, under "Config flags"). */
function isConfigFlag(option: Option): boolean {
  return Object.keys(overridesFrom({ [option.attributeName()]: option.negate ? false : "x" })).length > 0;
}

function optionRow(option: Option): string {
  const choices = option.argChoices ? option.argChoices.map((c) => `\`${c}\``).join(", ") : "";
  const fallback = option.defaultValue === undefined || option.negate ? "" : code(option.defaultValue);
  const required = option.mandatory ? " (required)" : "";
  return `| ${[`\`${option.flags}\``, text(option.description + required), cell(fallback), cell(choices)].join(" | ")} |`;
}

const optionTable = (options: Option[]): string[] => ["| option | what | default | choices |", "|---|---|---|---|", ...options.map(optionRow)];

function commandSection(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? "..." : ""}>` : `[${a.name()}${a.variadic ? "..." : ""}]`));
  const lines = [`## ${cmd.name()}`, "", cmd.description(), "", "```text", `fashion-ann ${[cmd.name(), ...args].join(" ")} [options]`, "```", ""];
  const visible = cmd.options.filter((o) => !o.hidden);
  const options = visible.filter((o) => !isConfigFlag(o));
  if (options.length < visible.length) lines.push("Takes every [config flag](#config-flags).", "");
  if (options.length) lines.push(...optionTable(options), "");
  const examples = HELP_EXAMPLES[cmd.name()] ?? [];
  if (examples.length) lines.push("```sh", ...examples.map((line) => `npx ${line}`), "```", "");
  return lines.join("\n");
}

/** Every command's usage line and options, in the CLI's own order. */
function cliReference(): string {
  const commands = buildCli().commands;
  const train = commands.find((c) => c.name() === "train");
  const configFlags = (train?.options ?? []).filter(isConfigFlag);
  const takers = commands.filter((c) => c.options.some(isConfigFlag)).map((c) => `\`${c.name()}\``);
  const intro = ["## Config flags", "", `Taken by ${takers.join(", ")}. What each field means: [experiments.md](experiments.md).`, ""];
  return [...intro, ...optionTable(configFlags), "", ...commands.map(commandSection)].join("\n").trimEnd();
}

/** The generated blocks: which page, which marker, what goes between the markers. */
const GENERATED_BLOCKS: ReadonlyArray<{ file: string; block: string; render: (root: string) => string }> = [
  { file: "docs/notebooks.md", block: "notebook-cells", render: notebookCells },
  { file: "docs/experiments.md", block: "config-fields", render: configFieldTable },
  { file: "docs/experiments.md", block: "schedule-fields", render: scheduleFieldTable },
  { file: "docs/cli.md", block: "cli-options", render: cliReference },
];

const begin = (block: string): string => `<!-- generated:${block} begin: do not edit, run npm run docs:gen -->`;
const end = (block: string): string => `<!-- generated:${block} end -->`;

/** The page text with one marked block replaced by `content`; a page without the markers is an error. */
export function replaceBlock(text: string, file: string, block: string, content: string): string {
  const start = text.indexOf(begin(block));
  const stop = text.indexOf(end(block));
  if (start < 0 || stop < start) throw new Error(`${file} has no "${begin(block)}" ... "${end(block)}" markers`);
  return `${text.slice(0, start)}${begin(block)}\n${content}\n${text.slice(stop)}`;
}

/** Every page with generated blocks, as it should be: file (relative to root) -> text. */
export function generatedPages(root: string): Map<string, string> {
  const pages = new Map<string, string>();
  for (const { file, block, render } of GENERATED_BLOCKS) {
    const text = pages.get(file) ?? fs.readFileSync(path.join(root, file), "utf8");
    pages.set(file, replaceBlock(text, file, block, render(root)));
  }
  return pages;
}
