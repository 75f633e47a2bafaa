import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Figure } from "../../lib/figures/figure";
import { type DaemonAddress, daemonAddress, privateSocketDir } from "../../lib/figures/render/daemon-address";
import { RenderClient } from "../../lib/figures/render/render-client";
import { RenderError } from "../../lib/figures/render/render-error";
import { type RenderBackend, type RenderServer, startRenderServer } from "../../lib/figures/render/render-server";
import { type DaemonStats, encodeMessage, MessageReader } from "../../lib/figures/render/wire";

// The render daemon's protocol with a fake renderer in place of Chromium: who starts the daemon, who shares it,
// what happens to stale sockets, dead daemons and bad figures. Chromium itself is covered by e2e/figures.

const root = mkdtempSync(join(tmpdir(), "fashion-ann-render-daemon-"));
let serial = 0;
const servers: RenderServer[] = [];
const clients: RenderClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A renderer that answers with an SVG naming the figure's first trace; `hold` keeps the next image unanswered. */
function fakeBackend(hold = false): RenderBackend & { renders: number } {
  const backend = {
    renders: 0,
    image: async (fig: Figure, req: { width: number; height: number }) => {
      backend.renders++;
      if (!Array.isArray(fig.data)) throw new RenderError("plotly could not draw the figure: data must be an array of traces");
      if (hold) {
        hold = false;
        return new Promise<string>(() => undefined);
      }
      return `<svg width="${req.width}" height="${req.height}" data-name="${(fig.data[0] as { name?: string })?.name}"/>`;
    },
    pdf: async (html: string) => Buffer.from(`%PDF ${html}`).toString("base64"),
    counters: () => ({ launches: 1, pages: 1, renders: backend.renders }),
    close: async () => undefined,
  };
  return backend;
}

/** A fresh address (its own socket and lock) in the test's folder. */
function freshAddress(): DaemonAddress {
  return daemonAddress({ root, build: `test-${process.pid}-${++serial}`, dir: root });
}

/** A client whose "daemon" is a server in this process, started the way the real client spawns one. */
function clientFor(address: DaemonAddress, backend: RenderBackend, started: (RenderServer | undefined)[] = []): RenderClient {
  const client = new RenderClient({
    address,
    startTimeoutMs: 5_000,
    startDaemon: () =>
      startRenderServer({ address, backend, idleMs: 60_000 }).then((s) => {
        started.push(s);
        if (s) servers.push(s);
      }),
  });
  clients.push(client);
  return client;
}

const figure = (name: string): Figure => ({ data: [{ y: [1, 2], name }], layout: { width: 300, height: 200 } });
const imageOf = (client: RenderClient, name: string) =>
  client.request({ op: "image", fig: figure(name), req: { format: "svg", width: 300, height: 200, scale: 1 } });

describe("render daemon", () => {
  it("is started once by two clients racing to start it, and serves both on one daemon", async () => {
    const address = freshAddress();
    const backend = fakeBackend();
    const started: (RenderServer | undefined)[] = [];
    const [a, b] = [clientFor(address, backend, started), clientFor(address, backend, started)];
    const svgs = await Promise.all([imageOf(a!, "from a"), imageOf(b!, "from b")]);
    expect(svgs).toEqual(['<svg width="300" height="200" data-name="from a"/>', '<svg width="300" height="200" data-name="from b"/>']);
    // Both found no daemon and started one; one won the lock, the other stepped aside and connected.
    expect(started.filter(Boolean)).toHaveLength(1);
    expect(started).toHaveLength(2);
    const stats = (await a!.stats()) as DaemonStats;
    expect(stats).toMatchObject({ connections: 2, connected: 2, renders: 2, launches: 1 });
    expect(stats.requests).toBe(2);
  });

  it("lets a second client connect to a running daemon without starting another", async () => {
    const address = freshAddress();
    const backend = fakeBackend();
    const a = clientFor(address, backend);
    await imageOf(a, "first");
    const b = clientFor(address, backend);
    await imageOf(b, "second");
    expect(a.counters.starts).toBe(1);
    expect(b.counters.starts).toBe(0);
    expect((await b.stats()).renders).toBe(2);
  });

  it("steps aside when another daemon already serves the address", async () => {
    const address = freshAddress();
    const first = await startRenderServer({ address, backend: fakeBackend(), idleMs: 60_000 });
    servers.push(first!);
    expect(await startRenderServer({ address, backend: fakeBackend(), idleMs: 60_000 })).toBeUndefined();
  });

  it("replaces a stale socket file left by a killed daemon", async () => {
    const address = freshAddress();
    // A process that listens on the socket and dies at once (SIGKILL: no chance to remove the file).
    const child = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(address.socketPath)}, () => process.kill(process.pid, "SIGKILL"))`,
    ]);
    await new Promise((resolve) => child.on("exit", resolve));
    expect(statSync(address.socketPath).isSocket()).toBe(true);
    const client = clientFor(address, fakeBackend());
    expect(await imageOf(client, "after stale")).toContain('data-name="after stale"');
    expect(client.counters.starts).toBe(1);
  });

  it("starts a new daemon on the next render after the daemon was killed, retrying the figure it was drawing", async () => {
    const address = freshAddress();
    const started: (RenderServer | undefined)[] = [];
    const client = clientFor(address, fakeBackend(true), started);
    const inFlight = imageOf(client, "lost with the first daemon");
    while (started.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // The fake holds the first figure forever: closing the daemon now drops it mid-render.
    await started[0]!.close();
    expect(await inFlight).toContain('data-name="lost with the first daemon"');
    expect(await imageOf(client, "next")).toContain('data-name="next"');
    expect(client.counters.starts).toBe(2);
  });

  it("turns a figure the renderer rejects into one RenderError sentence on the client", async () => {
    const client = clientFor(freshAddress(), fakeBackend());
    const bad = client.request({
      op: "image",
      fig: { data: "x" } as unknown as Figure,
      req: { format: "png", width: 1, height: 1, scale: 1 },
    });
    await expect(bad).rejects.toThrow(RenderError);
    await expect(bad).rejects.toThrow(/^plotly could not draw the figure: data must be an array of traces$/);
    // The daemon is still serving.
    expect(await imageOf(client, "after a bad one")).toContain("after a bad one");
  });

  it("reports the daemon's own failure with a figure as a RenderError and keeps using the daemon", async () => {
    const backend = fakeBackend();
    const image = backend.image;
    backend.image = async (fig, req) => {
      if ((fig.data[0] as { name?: string }).name === "crash") throw new Error("Target page, context or browser has been closed");
      return image(fig, req);
    };
    const client = clientFor(freshAddress(), backend);
    await expect(imageOf(client, "crash")).rejects.toThrow(
      /^the render daemon could not draw the figure: Target page, context or browser has been closed$/,
    );
    expect(await imageOf(client, "fine")).toContain('data-name="fine"');
    expect(client.counters.starts).toBe(1);
  });

  it("prints a PDF through the daemon", async () => {
    const client = clientFor(freshAddress(), fakeBackend());
    const pdf = Buffer.from((await client.request({ op: "pdf", html: "<p>hi</p>", opts: {} })) as string, "base64");
    expect(pdf.toString()).toBe("%PDF <p>hi</p>");
  });

  it("stops by itself after idleMs without a request, removing its socket", async () => {
    const address = freshAddress();
    const server = await startRenderServer({ address, backend: fakeBackend(), idleMs: 30 });
    expect(existsSync(address.socketPath)).toBe(true);
    await server!.closed;
    expect(existsSync(address.socketPath)).toBe(false);
  });
});

describe("render daemon address", () => {
  it("differs by project root, build and folder, and fits a Unix socket path (< 108 bytes)", () => {
    const a = daemonAddress({ root: "/p/one", build: "b1", dir: root });
    expect(daemonAddress({ root: "/p/two", build: "b1", dir: root }).socketPath).not.toBe(a.socketPath);
    expect(daemonAddress({ root: "/p/one", build: "b2", dir: root }).lockName).not.toBe(a.lockName);
    // The same project and build in another folder (another XDG_RUNTIME_DIR) is another daemon.
    expect(daemonAddress({ root: "/p/one", build: "b1", dir: join(root, "elsewhere") }).lockName).not.toBe(a.lockName);
    expect(Buffer.byteLength(daemonAddress({ root: "/p", build: "b", dir: "/tmp/fashion-ann-1000" }).socketPath)).toBeLessThan(108);
  });

  it("keeps sockets in a folder of mode 0700 and refuses one that others may enter", () => {
    const base = mkdtempSync(join(root, "base-"));
    const dir = privateSocketDir(base);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o755);
    expect(() => privateSocketDir(base)).toThrow(/must be a folder of user \d+ with mode 0700 \(found mode 755, owner \d+\); remove it/);
  });
});

describe("render daemon messages", () => {
  it("reassembles messages split across chunks, multi-byte characters included", () => {
    const reader = new MessageReader<{ id: number; result: string }>();
    const bytes = Buffer.from(
      encodeMessage({ id: 1, ok: true, result: "Ankle boot — épaule" }) + encodeMessage({ id: 2, ok: true, result: "" }),
    );
    const got = [];
    for (let i = 0; i < bytes.length; i += 7) got.push(...reader.push(bytes.subarray(i, i + 7)));
    expect(got.map((m) => [m.id, m.result])).toEqual([
      [1, "Ankle boot — épaule"],
      [2, ""],
    ]);
  });
});
