import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addonAt, ADDON_PATH, findProjectRoot, loadAddon, STATUS_PATH } from "../../lib/engine/native/addon";

// Locating the addon and explaining its absence: runs whether or not the addon is built.
describe("native addon location", () => {
  const temps: string[] = [];
  const tempProject = (name: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fa-native-"));
    temps.push(dir);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name }));
    return dir;
  };
  afterEach(() => {
    for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it("finds the project root from lib/engine/native and from a nested dist-like folder", () => {
    const root = findProjectRoot(path.join(__dirname, "../../lib/engine/native"));
    expect(root).toBe(path.resolve(__dirname, "../.."));
    const project = tempProject("fashion-ann");
    const nested = path.join(project, "dist/lib/engine/native");
    fs.mkdirSync(nested, { recursive: true });
    expect(findProjectRoot(nested)).toBe(project);
  });

  it("skips package.json files of other packages on the way up", () => {
    const project = tempProject("fashion-ann");
    const inner = path.join(project, "node_modules/other");
    fs.mkdirSync(inner, { recursive: true });
    fs.writeFileSync(path.join(inner, "package.json"), JSON.stringify({ name: "other" }));
    expect(findProjectRoot(inner)).toBe(project);
  });

  it("returns null outside the project", () => {
    expect(findProjectRoot(tempProject("something-else"))).toBeNull();
  });

  it("says to run setup when the addon is not built", () => {
    const load = addonAt(tempProject("fashion-ann"));
    expect(load.addon).toBeNull();
    expect(load.reason).toMatch(/not built \(native\/build\/Release\/fashion_ann_native\.node is missing\); run npm run setup/);
  });

  it("passes on setup's status line when the build failed", () => {
    const project = tempProject("fashion-ann");
    fs.mkdirSync(path.join(project, path.dirname(STATUS_PATH)), { recursive: true });
    fs.writeFileSync(
      path.join(project, STATUS_PATH),
      "the native addon did not build: cblas.h not found (apt-get install libopenblas-dev)\nmore log\n",
    );
    expect(addonAt(project).reason).toBe("the native addon did not build: cblas.h not found (apt-get install libopenblas-dev)");
  });

  it("reports a file that is not a loadable addon", () => {
    const project = tempProject("fashion-ann");
    fs.mkdirSync(path.join(project, path.dirname(ADDON_PATH)), { recursive: true });
    fs.writeFileSync(path.join(project, ADDON_PATH), "not an ELF file");
    expect(addonAt(project).reason).toMatch(/^the native addon failed to load \(.+\); rebuild it with npm run setup$/);
  });

  it("loads the project's addon or gives one reason, the same on every call", () => {
    const a = loadAddon();
    expect(loadAddon()).toBe(a);
    if (a.addon) expect(a.reason).toBeUndefined();
    else expect(a.reason).toMatch(/native addon/);
  });
});
