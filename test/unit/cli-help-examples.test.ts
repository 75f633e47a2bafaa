// Every command's --help ends with examples, and every example still parses: its command, flags and choices exist.
import { describe, expect, it } from "vitest";
import { HELP_EXAMPLES } from "../../lib/cli/help-examples";
import { buildCli } from "../../lib/cli/main";

/** An example line's arguments, without the leading `fashion-ann`, the comment and the shell's quotes. */
function argsOf(line: string): string[] {
  const words = line.replace(/\s+#.*$/, "").match(/'[^']*'|"[^"]*"|\S+/g) ?? [];
  return words.slice(1).map((w) => w.replace(/^'(.*)'$|^"(.*)"$/, "$1$2"));
}

describe("--help examples", () => {
  it("every command has examples, and every example names a command", () => {
    const names = buildCli().commands.map((c) => c.name());
    expect(names.filter((n) => !HELP_EXAMPLES[n])).toEqual([]);
    expect(Object.keys(HELP_EXAMPLES).filter((n) => !names.includes(n))).toEqual([]);
  });

  it.each(Object.values(HELP_EXAMPLES).flat())("parses: %s", async (line) => {
    const program = buildCli();
    let ran = "";
    // Parse only: every action is replaced by one that records which command parsed.
    for (const command of program.commands)
      command.action(() => {
        ran = command.name();
      });
    await program.parseAsync(["node", "fashion-ann", ...argsOf(line)]);
    expect(ran).toBe(argsOf(line)[0]);
  });

  it("shows them under --help", () => {
    const train = buildCli().commands.find((c) => c.name() === "train")!;
    let text = "";
    train.configureOutput({
      writeOut: (s) => {
        text += s;
      },
    });
    train.outputHelp();
    expect(text).toContain("Examples:\n  fashion-ann train --epochs 10");
  });
});
