// The real Fashion-MNIST, from data/ or /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist).
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FASHION_MNIST_FILES, type FashionMnistPart, type FashionMnistRaw, loadFashionMnist } from "../../lib/data/fashion-mnist";
import { CLASS_NAMES } from "../../lib/data/images";
import { splitAndScale } from "../../lib/data/split";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "../../lib/data/idx";
import { defined } from "../defined";

let raw: FashionMnistRaw;

beforeAll(async () => {
  raw = await loadFashionMnist({ dataDir: "data" });
});

/** SHA-256 of the IDX file the array came from: header rebuilt from the shape, then the data. */
function idxSha256(magic: number, array: { data: Uint8Array; shape: number[] }): string {
  const header = Buffer.alloc(4 + 4 * array.shape.length);
  header.writeUInt32BE(magic, 0);
  array.shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return createHash("sha256").update(header).update(array.data).digest("hex");
}

describe("loadFashionMnist on the real files", () => {
  it("has the tutorial's shapes and uint8 dtype", () => {
    expect(raw.trainImages.shape).toEqual([60000, 28, 28]);
    expect(raw.trainLabels.shape).toEqual([60000]);
    expect(raw.testImages.shape).toEqual([10000, 28, 28]);
    expect(raw.testLabels.shape).toEqual([10000]);
    for (const a of [raw.trainImages, raw.trainLabels, raw.testImages, raw.testLabels]) {
      expect(a.dtype).toBe("uint8");
      expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
    }
    expect(raw.classNames).toEqual(CLASS_NAMES);
    expect(raw.classNames).toHaveLength(10);
  });

  it("returns exactly the pinned files' contents", () => {
    const magic = (part: FashionMnistPart): number => (part.endsWith("Images") ? IDX_IMAGES_MAGIC : IDX_LABELS_MAGIC);
    for (const part of Object.keys(FASHION_MNIST_FILES) as FashionMnistPart[]) {
      expect(idxSha256(magic(part), raw[part]), part).toBe(FASHION_MNIST_FILES[part].sha256);
    }
  });

  it("has the known first and last labels (first training image: Ankle boot)", () => {
    expect(Array.from(raw.trainLabels.data.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(raw.trainLabels.data.subarray(-3))).toEqual([3, 0, 5]);
    expect(Array.from(raw.testLabels.data.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(Array.from(raw.testLabels.data.subarray(-3))).toEqual([8, 1, 5]);
    expect(raw.classNames[defined(raw.trainLabels.data[0], "the first training label")]).toBe("Ankle boot");
  });

  it("has 6000 training and 1000 test images of each class", () => {
    const counts = (labels: Uint8Array): number[] =>
      labels.reduce((c, l) => {
        c[l]!++;
        return c;
      }, new Array<number>(10).fill(0));
    expect(counts(raw.trainLabels.data)).toEqual(new Array(10).fill(6000));
    expect(counts(raw.testLabels.data)).toEqual(new Array(10).fill(1000));
  });

  it("has the known pixel sum of the first training image", () => {
    expect(raw.trainImages.row(0).data.reduce((a, b) => a + b, 0)).toBe(76247);
  });

  it("prints like numpy (uint8 repr with dtype)", () => {
    expect(raw.trainLabels.repr()).toBe("array([9, 0, 0, ..., 3, 0, 5], dtype=uint8)");
  });
});

describe("splitAndScale on the real data (validationSize 5000)", () => {
  it("gives the tutorial's 55000/5000/10000 split with float32 pixels in 0..1", () => {
    const { train, valid, test } = splitAndScale(raw, 5000);
    expect(train.x.shape).toEqual([55000, 28, 28]);
    expect(train.y.shape).toEqual([55000]);
    expect(valid.x.shape).toEqual([5000, 28, 28]);
    expect(valid.y.shape).toEqual([5000]);
    expect(test.x.shape).toEqual([10000, 28, 28]);
    expect(test.y.shape).toEqual([10000]);
    for (const set of [train, valid, test]) {
      expect(set.x.dtype).toBe("float32");
      expect(set.y.dtype).toBe("uint8");
      let min = Infinity;
      let max = -Infinity;
      for (const v of set.x.data) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect([min, max]).toEqual([0, 1]);
    }
    // X_train = X_train_full[5000:]: training set starts at image 5000 (label 4).
    expect(train.y.data[0]).toBe(raw.trainLabels.data[5000]);
    expect(train.x.data[14 * 28 + 12]).toBe(
      Math.fround(defined(raw.trainImages.data[5000 * 784 + 14 * 28 + 12], "pixel (14, 12) of image 5000") / 255),
    );
    expect(valid.x.data[14 * 28 + 12]).toBe(Math.fround(237 / 255));
  });
});

describe("the kernel's read-ahead (lib/data/prefetch), from the built library", () => {
  // dist/: the read-ahead runs its worker thread from the compiled file, as the kernel does.
  const dist = path.resolve(__dirname, "../../dist/lib");
  type Prefetch = typeof import("../../lib/data/prefetch");

  it("hands loadData the same arrays as reading the files, once, from a warm decoded cache only", async () => {
    const cache = mkdtempSync(path.join(tmpdir(), "fa-decoded-"));
    try {
      const { loadFashionMnist: load } = require(path.join(dist, "data/fashion-mnist.js")) as typeof import("../../lib/data/fashion-mnist");
      const { prefetchDataset, takePrefetched } = require(path.join(dist, "data/prefetch.js")) as Prefetch;
      prefetchDataset(path.resolve("data"), cache);
      expect(await takePrefetched(path.resolve("data")), "a cold cache prefetches nothing").toBeUndefined();
      await load({ dataDir: "data", decodedCacheDir: cache, onProgress: undefined });
      prefetchDataset(path.resolve("data"), cache);
      const ahead = defined(await takePrefetched(path.resolve("data")), "the prefetch from a warm cache");
      expect(await takePrefetched(path.resolve("data")), "taken once").toBeUndefined();
      const plain = splitAndScale(raw, 5000);
      const { splitScaled } = require(path.join(dist, "data/split.js")) as typeof import("../../lib/data/split");
      const fromAhead = splitScaled(ahead.raw, ahead.scaled, 5000);
      for (const set of ["train", "valid", "test"] as const) {
        expect(fromAhead[set].x.shape).toEqual(plain[set].x.shape);
        expect(
          Buffer.from(fromAhead[set].x.data.buffer, fromAhead[set].x.data.byteOffset, fromAhead[set].x.data.byteLength).equals(
            Buffer.from(plain[set].x.data.buffer, plain[set].x.data.byteOffset, plain[set].x.data.byteLength),
          ),
        ).toBe(true);
        expect(Array.from(fromAhead[set].y.data)).toEqual(Array.from(plain[set].y.data));
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
