import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { NDArray } from "../../lib/format/ndarray";
import { DatasetError, gunzip, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdxImages, parseIdxLabels } from "../../lib/data/idx";

/** Builds an IDX buffer: big-endian magic, dims, then the bytes. */
function idx(magic: number, dims: number[], body: number[]): Uint8Array {
  const buf = Buffer.alloc(4 + 4 * dims.length + body.length);
  buf.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  Buffer.from(body).copy(buf, 4 + 4 * dims.length);
  return new Uint8Array(buf);
}

// 3 images of 2x2 and their 3 labels.
const PIXELS = [0, 1, 2, 3, 10, 11, 12, 13, 252, 253, 254, 255];
const images = (): Uint8Array => idx(IDX_IMAGES_MAGIC, [3, 2, 2], PIXELS);
const labels = (): Uint8Array => idx(IDX_LABELS_MAGIC, [3], [9, 0, 4]);
const tiny = { imageSize: 2 };

describe("parseIdxImages", () => {
  it("parses 3 images of 2x2 into shape [3, 2, 2] with the pixels in order", () => {
    const out = parseIdxImages(images(), "imgs", tiny);
    expect(out.shape).toEqual([3, 2, 2]);
    expect(out).toBeInstanceOf(NDArray);
    expect(out.dtype).toBe("uint8");
    expect(Array.from(out.data)).toEqual(PIXELS);
  });

  it("rejects a label file given as images, suggesting a swap", () => {
    expect(() => parseIdxImages(labels(), "train-images-idx3-ubyte.gz", tiny)).toThrow(
      /^train-images-idx3-ubyte\.gz: magic 2049, expected 2051 \(images\)\..*Labels and images swapped\?/,
    );
  });

  it("rejects a wrong magic number naming it", () => {
    const buf = images();
    buf[0] = 0x12;
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(DatasetError);
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(/imgs: magic 301991939, expected 2051 \(images\)\. Not an IDX file/);
  });

  it("rejects a non-ubyte element type", () => {
    const buf = images();
    buf[2] = 0x0d; // float
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(/magic 3331, expected 2051.*Element type 0x0d, expected 0x08/);
  });

  it("rejects 2 dimensions where images need 3", () => {
    const buf = idx(0x00000802, [3, 4], PIXELS);
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(/magic 2050, expected 2051 \(images\)\. 2 dimensions, expected 3\./);
  });

  it("rejects images of the wrong size (2x2 where 28x28 is expected)", () => {
    expect(() => parseIdxImages(images(), "imgs")).toThrow(/imgs: images are 2 x 2, expected 28 x 28/);
  });

  it("rejects a short file (last pixel missing)", () => {
    const buf = images().subarray(0, 16 + 11);
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(/header declares 3 x 2 x 2 pixels = 12 data bytes, file has 11\. Truncated/);
  });

  it("rejects a file cut inside the header", () => {
    expect(() => parseIdxImages(images().subarray(0, 10), "imgs", tiny)).toThrow(/10 bytes, too short for the 16-byte IDX images header/);
    expect(() => parseIdxImages(new Uint8Array(2), "imgs", tiny)).toThrow(/2 bytes, too short for an IDX header/);
  });

  it("rejects a long file (2 extra bytes)", () => {
    const buf = idx(IDX_IMAGES_MAGIC, [3, 2, 2], [...PIXELS, 7, 7]);
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(/= 12 data bytes, file has 14 \(2 extra bytes at the end\)/);
  });

  it("rejects an absurd image count (2^32-1) from the header alone, without allocating", () => {
    const buf = idx(IDX_IMAGES_MAGIC, [0xffffffff, 2, 2], PIXELS);
    expect(() => parseIdxImages(buf, "imgs", tiny)).toThrow(
      /header declares 4294967295 x 2 x 2 pixels = 17179869180 data bytes, file has 12/,
    );
  });

  it("returns a view into the buffer rather than a copy", () => {
    const buf = images();
    expect(parseIdxImages(buf, "imgs", tiny).data.buffer).toBe(buf.buffer);
  });
});

describe("parseIdxLabels", () => {
  it("parses 3 labels into shape [3]", () => {
    const out = parseIdxLabels(labels(), "labels");
    expect(out.shape).toEqual([3]);
    expect(out.dtype).toBe("uint8");
    expect(Array.from(out.data)).toEqual([9, 0, 4]);
  });

  it("rejects an image file given as labels", () => {
    expect(() => parseIdxLabels(images(), "train-labels-idx1-ubyte.gz")).toThrow(
      /magic 2051, expected 2049 \(labels\)\. This is an image file\. Labels and images swapped\?/,
    );
  });

  it("rejects label 10 (out of 0..9) naming its index", () => {
    const buf = idx(IDX_LABELS_MAGIC, [3], [1, 10, 2]);
    expect(() => parseIdxLabels(buf, "labels")).toThrow(/labels: label 10 at index 1, expected 0\.\.9/);
  });

  it("honours numClasses=3 (label 4 out of range)", () => {
    expect(() => parseIdxLabels(labels(), "labels", { numClasses: 10 })).not.toThrow();
    expect(() => parseIdxLabels(idx(IDX_LABELS_MAGIC, [2], [2, 4]), "labels", { numClasses: 3 })).toThrow(
      /label 4 at index 1, expected 0\.\.2/,
    );
  });

  it("rejects an absurd label count without allocating", () => {
    const buf = idx(IDX_LABELS_MAGIC, [0xfffffff0], [1, 2, 3]);
    expect(() => parseIdxLabels(buf, "labels")).toThrow(/declares 4294967280 labels = 4294967280 data bytes, file has 3/);
  });

  it("rejects a short label file", () => {
    expect(() => parseIdxLabels(labels().subarray(0, 10), "labels")).toThrow(/declares 3 labels = 3 data bytes, file has 2\. Truncated/);
  });
});

describe("gunzip", () => {
  it("round-trips gzip data", () => {
    expect(Array.from(gunzip(gzipSync(images()), "x.gz"))).toEqual(Array.from(images()));
  });

  it("rejects data that is not gzip, showing its first bytes", () => {
    expect(() => gunzip(new TextEncoder().encode("<html>"), "x.gz")).toThrow(
      /x\.gz: not a gzip file \(starts with 3c 68, expected 1f 8b\)/,
    );
  });

  it("rejects an empty file as not gzip", () => {
    expect(() => gunzip(new Uint8Array(0), "x.gz")).toThrow(/not a gzip file \(starts with nothing/);
  });

  it("rejects truncated gzip data", () => {
    const gz = gzipSync(images());
    expect(() => gunzip(gz.subarray(0, gz.length - 6), "x.gz")).toThrow(
      /x\.gz: gzip data is truncated after \d+ bytes.*Incomplete download\?/,
    );
  });

  it("rejects corrupt gzip data", () => {
    const gz = Buffer.from(gzipSync(Buffer.alloc(1000, 7)));
    gz.writeUInt8(gz.readUInt8(12) ^ 0xff, 12);
    expect(() => gunzip(gz, "x.gz")).toThrow(/x\.gz: corrupt gzip data \(zlib: /);
  });

  it("refuses to decompress past maxBytes", () => {
    expect(() => gunzip(gzipSync(Buffer.alloc(1000)), "x.gz", 100)).toThrow(/decompresses to more than 100 bytes/);
  });
});
