// A real Debian Jupyter Notebook server with the project's tslab kernel, and the system Chromium looking at it:
// what the UI e2e tests start before they click through a notebook as a person would.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../../../lib/figures/render/browser";
import { projectRoot } from "../../../lib/io/paths";
import { jupyterEnv, SYSTEM_PYTHON } from "../../../lib/notebook/execute";
import { freePort } from "./net";

const START_TIMEOUT_MS = 60_000;

export interface JupyterServer {
  /** The page of `notebook` (a file name in the server's notebook folder), token included. */
  notebookUrl(notebook: string): string;
  /** Everything the server printed so far. */
  log(): string;
  /** /api/shutdown (which stops the kernels too), then SIGTERM and SIGKILL to its process group as fallbacks. */
  stop(): Promise<void>;
}

/**
 * `jupyter notebook` serving `notebookDir`, answering on a free port. Config, runtime and trust database live in
 * `tmp`, so the user's Jupyter settings cannot change what a test sees and a test leaves nothing in ~/.local.
 */
export async function startJupyter(notebookDir: string, tmp: string): Promise<JupyterServer> {
  const root = projectRoot();
  const token = randomBytes(16).toString("hex");
  const port = await freePort();
  const args = [
    ...["-m", "jupyter", "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0"],
    `--NotebookApp.token=${token}`,
    `--notebook-dir=${notebookDir}`,
    "--NotebookNotary.db_file=:memory:",
    ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
  ];
  const env = { ...jupyterEnv(root), JUPYTER_CONFIG_DIR: path.join(tmp, "config"), JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime") };
  return startServer(SYSTEM_PYTHON, args, env, port, token, (nb) => `notebooks/${encodeURIComponent(nb)}`);
}

/** Spawns a Jupyter server (its own process group) and waits until /api/status answers. */
async function startServer(
  python: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  token: string,
  notebookPath: (notebook: string) => string,
): Promise<JupyterServer> {
  const server: ChildProcess = spawn(python, args, { cwd: projectRoot(), env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  server.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  server.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const api = (what: string) => `http://127.0.0.1:${port}/api/${what}?token=${token}`;
  const stop = async (): Promise<void> => {
    if (server.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
    const timeout = (ms: number) => new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms));
    await fetch(api("shutdown"), { method: "POST" }).catch(() => undefined);
    if ((await Promise.race([exited, timeout(15_000)])) !== "timeout") return;
    process.kill(-server.pid!, "SIGTERM");
    if ((await Promise.race([exited, timeout(10_000)])) !== "timeout") return;
    process.kill(-server.pid!, "SIGKILL");
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`jupyter server exited with ${server.exitCode}:\n${log}`);
    if (
      await fetch(api("status")).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`jupyter server did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    notebookUrl: (notebook) => `http://127.0.0.1:${port}/${notebookPath(notebook)}?token=${token}`,
    log: () => log,
    stop,
  };
}

/** Headless system Chromium (the figures' own launch arguments) and one page of `height` pixels. */
export async function openBrowser(height: number): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  return { browser, page: await browser.newPage({ viewport: { width: 1280, height } }) };
}

/** The front ends of the project's .venv (scripts/python-env.sh): JupyterLab 4 and Notebook 7. */
export type ModernUi = "lab" | "notebook7";
export const MODERN_UI_NAMES: Record<ModernUi, string> = { lab: "JupyterLab 4", notebook7: "Notebook 7" };

/** The .venv's Python when it has JupyterLab and Notebook 7 installed (`npm run setup`), else undefined. */
export function venvJupyterPython(root: string = projectRoot()): string | undefined {
  const python = path.join(root, ".venv", "bin", "python");
  const ok = ["jupyter-lab", "jupyter-notebook"].every((bin) => existsSync(path.join(root, ".venv", "bin", bin)));
  return ok ? python : undefined;
}

/**
 * JupyterLab 4 or Notebook 7 from .venv serving `notebookDir` on a free port, with `window.jupyterapp` exposed so a
 * test can read the notebook model. Config, runtime and data dirs live in `tmp`: the user's settings, workspaces and
 * trust database change nothing. Throws a one-line reason when .venv lacks them (the caller decides skip or fail).
 */
export async function startModernJupyter(ui: ModernUi, notebookDir: string, tmp: string): Promise<JupyterServer> {
  const root = projectRoot();
  const python = venvJupyterPython(root);
  if (!python) throw new Error(`${MODERN_UI_NAMES[ui]} is not installed in ${root}/.venv; run: npm run setup`);
  const token = randomBytes(16).toString("hex");
  const port = await freePort();
  const app = ui === "lab" ? "LabApp" : "JupyterNotebookApp";
  const args = [
    ...["-m", ui === "lab" ? "jupyterlab" : "notebook", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0"],
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${notebookDir}`,
    `--${app}.expose_app_in_browser=True`,
    // The workspace (open tabs) and the news/update checks would otherwise reach into ~/.jupyter and the network.
    `--LabServerApp.workspaces_dir=${path.join(tmp, "workspaces")}`,
    "--NotebookNotary.db_file=:memory:",
    ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
  ];
  // JupyterLab's "get notified about Jupyter news?" toast would cover the notebook in screenshots.
  const notification = path.join(tmp, "settings", "@jupyterlab", "apputils-extension", "notification.jupyterlab-settings");
  mkdirSync(path.dirname(notification), { recursive: true });
  writeFileSync(notification, JSON.stringify({ fetchNews: "false" }));
  const env = {
    ...jupyterEnv(root),
    JUPYTER_CONFIG_DIR: path.join(tmp, "config"),
    JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime"),
    JUPYTERLAB_SETTINGS_DIR: path.join(tmp, "settings"),
    JUPYTERLAB_WORKSPACES_DIR: path.join(tmp, "workspaces"),
  };
  // JupyterLab would reopen the previous page's tabs (and start their kernels) without `reset`.
  const pagePath = ui === "lab" ? "lab/tree" : "notebooks";
  const url = startServer(python, args, env, port, token, (nb) => `${pagePath}/${encodeURIComponent(nb)}`);
  return ui === "lab" ? url.then((s) => ({ ...s, notebookUrl: (nb: string) => `${s.notebookUrl(nb)}&reset` })) : url;
}
