// A cached dataset file damaged by hand (a copy of Debian's files in a temp data folder): the loader
// detects it (gzip CRC or pinned SHA-256), deletes it, fetches it once more from a local HTTP server
// serving the good bytes, and says so in plain words. The CLI, with the system copy installed, falls
// back to it without any network.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DatasetError } from "../../lib/data/idx";
import { FASHION_MNIST_FILES, loadFashionMnist } from "../../lib/data/fashion-mnist";
import { runCli } from "./spawn";

const SYSTEM = "/usr/share/datasets/fashion-mnist";
const names = Object.values(FASHION_MNIST_FILES).map((f) => f.name);

let tmp: string;
let server: http.Server;
let baseUrl: string;
/** What the server serves instead of the good file, by name (to simulate a bad mirror). */
const override = new Map<string, Buffer>();
const requests: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-corrupt-"));
  server = http.createServer((req, res) => {
    const name = path.basename(req.url ?? "");
    requests.push(name);
    const body = override.get(name) ?? (names.includes(name) ? fs.readFileSync(path.join(SYSTEM, name)) : undefined);
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A data folder holding a copy of the four system files. */
function cacheCopy(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const f of names) fs.copyFileSync(path.join(SYSTEM, f), path.join(dir, f));
  return dir;
}

const load = (dataDir: string, log: string[]) =>
  loadFashionMnist({ dataDir, systemDirs: [], baseUrl, onProgress: undefined, log: (m) => log.push(m) });

describe("a cached Fashion-MNIST file damaged by hand", () => {
  it("one flipped byte in the middle of train-images .gz: zlib's check fails, the file is deleted and downloaded once", async () => {
    const dir = cacheCopy("flip");
    const file = path.join(dir, "train-images-idx3-ubyte.gz");
    const gz = fs.readFileSync(file);
    gz[Math.floor(gz.length / 2)]! ^= 0xff;
    fs.writeFileSync(file, gz);
    requests.length = 0;
    const log: string[] = [];

    const raw = await load(dir, log);

    expect(raw.trainImages.shape).toEqual([60000, 28, 28]);
    expect(log[0]).toMatch(
      new RegExp(`^${file}: corrupt gzip data \\(zlib: [^)]+\\)\\. Deleted it; looking for a good copy elsewhere\\.$`),
    );
    expect(log[1]).toBe(`Downloading ${baseUrl}train-images-idx3-ubyte.gz to ${file}`);
    expect(log).toHaveLength(2);
    expect(requests).toEqual(["train-images-idx3-ubyte.gz"]);
    // Left on disk: the good file, nothing else.
    expect(fs.readFileSync(file).equals(fs.readFileSync(path.join(SYSTEM, "train-images-idx3-ubyte.gz")))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual([...names].sort());
  });

  it("a valid .gz whose content changed (one pixel): the pinned SHA-256 catches it, names both hashes, re-downloads", async () => {
    const dir = cacheCopy("pixel");
    const file = path.join(dir, "t10k-images-idx3-ubyte.gz");
    const idx = gunzipSync(fs.readFileSync(file));
    idx[16 + 500]! ^= 0x01;
    fs.writeFileSync(file, gzipSync(idx));
    requests.length = 0;
    const log: string[] = [];

    await load(dir, log);

    expect(log[0]).toMatch(
      new RegExp(
        `^${file}: sha256 [0-9a-f]{64} \\(decompressed\\), expected ${FASHION_MNIST_FILES.testImages.sha256}\\. Deleted it; looking for a good copy elsewhere\\.$`,
      ),
    );
    expect(requests).toEqual(["t10k-images-idx3-ubyte.gz"]);
  });

  it("a re-download that is bad too ends with one DatasetError saying where it looked and how to get the files; no partial file", async () => {
    const dir = cacheCopy("bad-mirror");
    const file = path.join(dir, "t10k-labels-idx1-ubyte.gz");
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 1000)); // truncated by hand
    override.set("t10k-labels-idx1-ubyte.gz", Buffer.from("<html>Service unavailable</html>"));
    requests.length = 0;
    const log: string[] = [];
    try {
      const err = await load(dir, log).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as Error).message).toBe(
        [
          `Fashion-MNIST file t10k-labels-idx1-ubyte.gz is not available. Looked in:`,
          `  - ${file}: invalid, deleted`,
          `and ${baseUrl}t10k-labels-idx1-ubyte.gz: not a gzip file (starts with 3c 68, expected 1f 8b). An error page saved instead of the data, or an uncompressed file renamed to .gz?`,
          `Get the files one of two ways:`,
          `  1. apt-get install dataset-fashion-mnist   (installs them into ${SYSTEM})`,
          `  2. download the four files from ${baseUrl} into ${dir}/`,
        ].join("\n"),
      );
      expect(log[0]).toMatch(
        new RegExp(
          `^${file}: gzip data is truncated after 1000 bytes .*Incomplete download\\? Deleted it; looking for a good copy elsewhere\\.$`,
        ),
      );
      expect(requests).toEqual(["t10k-labels-idx1-ubyte.gz"]);
      expect(fs.readdirSync(dir).sort()).toEqual(names.filter((n) => n !== "t10k-labels-idx1-ubyte.gz").sort());
    } finally {
      override.clear();
    }
  });

  it("fashion-ann train with a damaged cache falls back to the system copy, saying which file was bad", async () => {
    const dir = cacheCopy("cli");
    const file = path.join(dir, "train-labels-idx1-ubyte.gz");
    const gz = fs.readFileSync(file);
    gz[gz.length - 6]! ^= 0x55; // inside the CRC-32 trailer
    fs.writeFileSync(file, gz);
    const run = path.join(tmp, "cli-run");
    // --no-figures: the point is where the data came from; train's figures are train-cli.test.ts's.
    const r = await runCli(
      [
        "train",
        "--epochs",
        "1",
        "--hidden",
        "8",
        "--batch-size",
        "256",
        "--no-figures",
        "--data-dir",
        dir,
        "--out",
        run,
        // An empty decoded cache: a warm one holds verified copies and the CLI would never read the damaged .gz.
      ],
      { env: { ...process.env, FASHION_ANN_CACHE_DIR: path.join(tmp, "empty-cache") } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`^${file}: corrupt gzip data \\(zlib: incorrect data check\\)\\. Deleted it; looking for a good copy elsewhere\\.$`, "m"),
    );
    expect(fs.existsSync(file)).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(run, "metrics.json"), "utf8")).test_accuracy).toBeGreaterThan(0.2); // well above chance (0.1): the real labels were loaded
  });
});
