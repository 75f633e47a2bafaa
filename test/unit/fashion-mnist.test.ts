import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProgressBar, type DatasetFileSpec, type DownloadProgress } from "../../lib/data/download";
import { type FashionMnistPart, loadFashionMnist, type LoadFashionMnistOptions } from "../../lib/data/fashion-mnist";
import { CLASS_NAMES } from "../../lib/data/images";
import { splitAndScale } from "../../lib/data/split";
import { DatasetError, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "../../lib/data/idx";

// A tiny Fashion-MNIST: 3 training and 2 test images of 2x2, with labels.
function idx(magic: number, dims: number[], body: number[]): Buffer {
  const buf = Buffer.alloc(4 + 4 * dims.length + body.length);
  buf.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  Buffer.from(body).copy(buf, 4 + 4 * dims.length);
  return buf;
}
const RAW: Record<FashionMnistPart, Buffer> = {
  trainLabels: idx(IDX_LABELS_MAGIC, [3], [9, 0, 3]),
  trainImages: idx(IDX_IMAGES_MAGIC, [3, 2, 2], [0, 51, 102, 255, 1, 2, 3, 4, 5, 6, 7, 8]),
  testLabels: idx(IDX_LABELS_MAGIC, [2], [1, 2]),
  testImages: idx(IDX_IMAGES_MAGIC, [2, 2, 2], [255, 0, 255, 0, 9, 9, 9, 9]),
};
const PARTS = Object.keys(RAW) as FashionMnistPart[];
const NAMES = {
  trainLabels: "tl.gz",
  trainImages: "ti.gz",
  testLabels: "el.gz",
  testImages: "ei.gz",
} as const satisfies Record<FashionMnistPart, string>;
const FILES = Object.fromEntries(
  PARTS.map((p) => [p, { name: NAMES[p], sha256: createHash("sha256").update(RAW[p]).digest("hex") }]),
) as Record<FashionMnistPart, DatasetFileSpec>;
const GZ = Object.fromEntries(PARTS.map((p) => [NAMES[p], gzipSync(RAW[p])])) as Record<(typeof NAMES)[FashionMnistPart], Buffer>;
// Valid gzip, valid IDX, but not the pinned bytes.
const WRONG = gzipSync(idx(IDX_LABELS_MAGIC, [3], [1, 1, 1]));

const BASE_URL = "http://test.invalid/ds/";

/** A fetch serving the tiny files; `override` replaces the response for chosen names. */
function fakeFetch(requests: string[], override: Record<string, () => Response | Promise<Response>> = {}): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input);
    requests.push(url);
    const name = url.slice(BASE_URL.length);
    const replaced = override[name];
    if (replaced) return replaced();
    const body = Object.entries(GZ).find(([file]) => file === name)?.[1];
    if (!body) return new Response("not found", { status: 404, statusText: "Not Found" });
    return new Response(new Uint8Array(body), { headers: { "content-length": String(body.length) } });
  }) as typeof fetch;
}

const refuseFetch = (async (input: string | URL | Request) => {
  throw new Error(`unexpected download of ${String(input)}`);
}) as typeof fetch;

let tmp: string;
let dataDir: string;
let sysDir: string;
let logs: string[];

beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "fmnist-"));
  dataDir = path.join(tmp, "cache");
  sysDir = path.join(tmp, "system");
  mkdirSync(sysDir);
  logs = [];
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function options(extra: Partial<LoadFashionMnistOptions>): LoadFashionMnistOptions {
  return {
    dataDir,
    systemDirs: [sysDir],
    baseUrl: BASE_URL,
    files: FILES,
    imageSize: 2,
    fetch: refuseFetch,
    onProgress: undefined,
    log: (m) => logs.push(m),
    ...extra,
  };
}

function putAll(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, gz] of Object.entries(GZ)) writeFileSync(path.join(dir, name), gz);
}

describe("loadFashionMnist", () => {
  it("downloads all four files into a missing cache folder and returns the arrays", async () => {
    const requests: string[] = [];
    const progress: DownloadProgress[] = [];
    const raw = await loadFashionMnist(options({ fetch: fakeFetch(requests), onProgress: (p) => progress.push(p) }));
    expect(requests).toEqual(["tl.gz", "ti.gz", "el.gz", "ei.gz"].map((n) => BASE_URL + n));
    expect(readdirSync(dataDir).sort()).toEqual(["ei.gz", "el.gz", "ti.gz", "tl.gz"]);
    expect(raw.trainImages.shape).toEqual([3, 2, 2]);
    expect(Array.from(raw.trainLabels.data)).toEqual([9, 0, 3]);
    expect(raw.testImages.shape).toEqual([2, 2, 2]);
    expect(Array.from(raw.testLabels.data)).toEqual([1, 2]);
    expect(raw.classNames).toBe(CLASS_NAMES);
    const last = progress.filter((p) => p.file === "ti.gz").at(-1);
    expect(last).toEqual({ file: "ti.gz", received: GZ["ti.gz"].length, total: GZ["ti.gz"].length, done: true });
  });

  it("uses verified files in the cache folder without downloading or logging", async () => {
    putAll(dataDir);
    const raw = await loadFashionMnist(options({}));
    expect(Array.from(raw.testLabels.data)).toEqual([1, 2]);
    expect(logs).toEqual([]);
  });

  it("uses a system folder when the cache has nothing, and does not create the cache folder", async () => {
    putAll(sysDir);
    const raw = await loadFashionMnist(options({}));
    expect(Array.from(raw.trainLabels.data)).toEqual([9, 0, 3]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("deletes a cache file with the wrong sha256 and downloads it once", async () => {
    putAll(dataDir);
    writeFileSync(path.join(dataDir, "el.gz"), WRONG);
    const requests: string[] = [];
    const raw = await loadFashionMnist(options({ fetch: fakeFetch(requests) }));
    expect(requests).toEqual([BASE_URL + "el.gz"]);
    expect(Array.from(raw.testLabels.data)).toEqual([1, 2]);
    expect(readFileSync(path.join(dataDir, "el.gz"))).toEqual(GZ["el.gz"]);
    expect(logs.join("\n")).toMatch(
      /cache[/\\]el\.gz: sha256 [0-9a-f]{64} \(decompressed\), expected [0-9a-f]{64}\. Deleted it; looking for a good copy elsewhere\./,
    );
  });

  it("deletes a truncated cache file and downloads it", async () => {
    putAll(dataDir);
    writeFileSync(path.join(dataDir, "ti.gz"), GZ["ti.gz"].subarray(0, 20));
    const requests: string[] = [];
    await loadFashionMnist(options({ fetch: fakeFetch(requests) }));
    expect(requests).toEqual([BASE_URL + "ti.gz"]);
    expect(logs.join("\n")).toMatch(/ti\.gz: gzip data is truncated/);
  });

  it("gives up when the re-downloaded file is also wrong, without a second try", async () => {
    putAll(dataDir);
    writeFileSync(path.join(dataDir, "el.gz"), WRONG);
    const requests: string[] = [];
    const load = loadFashionMnist(options({ fetch: fakeFetch(requests, { "el.gz": () => new Response(WRONG) }) }));
    await expect(load).rejects.toThrow(
      /http:\/\/test\.invalid\/ds\/el\.gz: sha256 [0-9a-f]{64} \(decompressed\), expected [0-9a-f]{64}\.\n/,
    );
    await expect(load).rejects.toThrow(/cache[/\\]el\.gz: invalid, deleted/);
    expect(requests).toEqual([BASE_URL + "el.gz"]);
    expect(readdirSync(dataDir)).not.toContain("el.gz");
    expect(readdirSync(dataDir).filter((f) => f.endsWith(".part"))).toEqual([]);
  });

  it("reports a bad system file, leaves it in place and downloads instead", async () => {
    putAll(sysDir);
    writeFileSync(path.join(sysDir, "ti.gz"), WRONG);
    const requests: string[] = [];
    const raw = await loadFashionMnist(options({ fetch: fakeFetch(requests) }));
    expect(requests).toEqual([BASE_URL + "ti.gz"]);
    expect(raw.trainImages.shape).toEqual([3, 2, 2]);
    expect(readFileSync(path.join(sysDir, "ti.gz"))).toEqual(WRONG);
    expect(logs.join("\n")).toMatch(
      /system[/\\]ti\.gz: sha256 [0-9a-f]{64} \(decompressed\), expected [0-9a-f]{64}\. Skipping it \(left in place/,
    );
  });

  it("tries the next system folder after a bad one", async () => {
    const second = path.join(tmp, "system2");
    putAll(sysDir);
    putAll(second);
    writeFileSync(path.join(sysDir, "tl.gz"), WRONG);
    const raw = await loadFashionMnist(options({ systemDirs: [sysDir, second] }));
    expect(Array.from(raw.trainLabels.data)).toEqual([9, 0, 3]);
  });

  it("leaves no partial file when the connection drops mid-download", async () => {
    const body = GZ["ti.gz"];
    const dropping = (): Response => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body.subarray(0, 10));
        },
        pull(controller) {
          controller.error(new Error("socket hang up"));
        },
      });
      return new Response(stream, { headers: { "content-length": String(body.length) } });
    };
    const load = loadFashionMnist(options({ fetch: fakeFetch([], { "ti.gz": dropping }) }));
    await expect(load).rejects.toThrow(
      /downloading http:\/\/test\.invalid\/ds\/ti\.gz failed: connection lost after 10 bytes: socket hang up/,
    );
    expect(readdirSync(dataDir).sort()).toEqual(["tl.gz"]);
  });

  it("leaves no partial file when the body is shorter than its Content-Length", async () => {
    const short = (): Response =>
      new Response(new Uint8Array(GZ["tl.gz"].subarray(0, 10)), { headers: { "content-length": String(GZ["tl.gz"].length) } });
    const load = loadFashionMnist(options({ fetch: fakeFetch([], { "tl.gz": short }) }));
    await expect(load).rejects.toThrow(new RegExp(`connection closed after 10 of ${GZ["tl.gz"].length} bytes`));
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("abandons a stalled download after stallTimeoutMs", async () => {
    const stalled = (signal?: AbortSignal | null) => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          // Real fetch errors the body when its signal aborts; the fake does the same.
          signal?.addEventListener("abort", () => controller.error(signal.reason));
        },
      });
      return new Response(stream);
    };
    const fetchStalled = (async (_url: string, init?: RequestInit) => stalled(init?.signal)) as unknown as typeof fetch;
    const load = loadFashionMnist(options({ fetch: fetchStalled, stallTimeoutMs: 50 }));
    await expect(load).rejects.toThrow(/connection lost after 0 bytes: no data received for 0\.05 s/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("says where it looked and both ways to get the files when the download fails", async () => {
    const offline = (async () => {
      throw new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND test.invalid") });
    }) as typeof fetch;
    const load = loadFashionMnist(options({ fetch: offline }));
    const err = await load.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Fashion-MNIST file tl\.gz is not available\. Looked in:/);
    expect(msg).toMatch(/cache[/\\]tl\.gz: not found/);
    expect(msg).toMatch(/system[/\\]tl\.gz: not found/);
    expect(msg).toMatch(/downloading http:\/\/test\.invalid\/ds\/tl\.gz failed: fetch failed \(getaddrinfo ENOTFOUND test\.invalid\)/);
    expect(msg).toMatch(/apt-get install dataset-fashion-mnist/);
    expect(msg).toMatch(/download the four files from http:\/\/test\.invalid\/ds\/ into .*cache\//);
  });

  it("reports an HTTP 404 with the status", async () => {
    const load = loadFashionMnist(
      options({ fetch: fakeFetch([], { "tl.gz": () => new Response("", { status: 404, statusText: "Not Found" }) }) }),
    );
    await expect(load).rejects.toThrow(/tl\.gz failed: HTTP 404 Not Found/);
  });

  it("explains an unwritable cache folder (a path below a regular file)", async () => {
    const blocker = path.join(tmp, "a-file");
    writeFileSync(blocker, "");
    const load = loadFashionMnist(options({ dataDir: path.join(blocker, "cache"), fetch: fakeFetch([]) }));
    await expect(load).rejects.toThrow(
      /cannot write to the cache folder .*a-file[/\\]cache \((ENOTDIR|EEXIST)[^)]*\); make it writable or pass another dataDir/,
    );
    await expect(load).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
  });

  it("rejects image and label files with different counts", async () => {
    const files = { ...FILES, testLabels: FILES.trainLabels };
    await expect(loadFashionMnist(options({ files, fetch: fakeFetch([]) }))).rejects.toThrow(
      /ei\.gz has 2 images but tl\.gz has 3 labels; expected the same count/,
    );
  });
});

describe("splitAndScale", () => {
  it("takes the first 1 training image as validation and scales pixels to 0..1", async () => {
    putAll(dataDir);
    const raw = await loadFashionMnist(options({}));
    const sets = splitAndScale(raw, 1);
    expect(sets.valid.x.shape).toEqual([1, 2, 2]);
    expect(sets.valid.x.dtype).toBe("float32");
    expect(sets.valid.y.dtype).toBe("uint8");
    expect(Array.from(sets.valid.x.data)).toEqual([0, 0.2, 0.4, 1].map((v) => Math.fround(v)));
    expect(Array.from(sets.valid.y.data)).toEqual([9]);
    expect(sets.train.x.shape).toEqual([2, 2, 2]);
    expect(sets.train.x.data[0]).toBe(Math.fround(1 / 255));
    expect(Array.from(sets.train.y.data)).toEqual([0, 3]);
    expect(sets.train.y.shape).toEqual([2]);
    expect(sets.test.x.shape).toEqual([2, 2, 2]);
    expect(Array.from(sets.test.y.data)).toEqual([1, 2]);
  });

  it.each([-1, 3, 1.5])("rejects validationSize %s for 3 training images", async (size) => {
    putAll(dataDir);
    const raw = await loadFashionMnist(options({}));
    expect(() => splitAndScale(raw, size)).toThrow(new RegExp(`validationSize ${size}: expected an integer from 0 to 2`));
  });
});

describe("createProgressBar", () => {
  it("draws a bar per file on a terminal and ends it when the download is done", () => {
    let out = "";
    const tty = Object.assign(Object.create(process.stderr) as NodeJS.WriteStream, {
      isTTY: true,
      columns: 100,
      write: (s: string) => {
        out += s;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const onProgress = createProgressBar(tty);
    onProgress({ file: "ti.gz", received: 0, total: 2_000_000, done: false });
    onProgress({ file: "ti.gz", received: 2_000_000, total: 2_000_000, done: false });
    onProgress({ file: "ti.gz", received: 2_000_000, total: 2_000_000, done: true });
    expect(out).toMatch(/ti\.gz \[[^\]]+\] 100% \| 2\.0 MB \/ 2\.0 MB/);
  });
});

describe("the decoded cache (decodedCacheDir)", () => {
  const decoded = () => path.join(tmp, "decoded");
  const entries = () =>
    readdirSync(decoded())
      .filter((f) => f.endsWith(".idx"))
      .sort();

  it("keeps each decompressed file under its pinned hash, then loads from it without the .gz files", async () => {
    putAll(sysDir);
    const first = await loadFashionMnist(options({ decodedCacheDir: decoded() }));
    expect(entries()).toEqual(PARTS.map((p) => `${FILES[p].sha256}.idx`).sort());
    rmSync(sysDir, { recursive: true });
    const second = await loadFashionMnist(options({ decodedCacheDir: decoded() }));
    expect(Array.from(second.trainImages.data)).toEqual(Array.from(first.trainImages.data));
    expect(Array.from(second.testLabels.data)).toEqual([1, 2]);
    expect(logs).toEqual([]);
  });

  it("replaces a damaged entry from the .gz files instead of using it", async () => {
    putAll(sysDir);
    await loadFashionMnist(options({ decodedCacheDir: decoded() }));
    const labels = path.join(decoded(), `${FILES.trainLabels.sha256}.idx`);
    writeFileSync(labels, idx(IDX_LABELS_MAGIC, [3], [1, 1, 1]));
    const raw = await loadFashionMnist(options({ decodedCacheDir: decoded() }));
    expect(Array.from(raw.trainLabels.data)).toEqual([9, 0, 3]);
    expect(readFileSync(labels).equals(RAW.trainLabels)).toBe(true);
  });

  it("still loads when the cache folder cannot be written (a file stands where it should be)", async () => {
    putAll(sysDir);
    writeFileSync(decoded(), "not a folder");
    const raw = await loadFashionMnist(options({ decodedCacheDir: decoded() }));
    expect(Array.from(raw.testLabels.data)).toEqual([1, 2]);
  });
});
