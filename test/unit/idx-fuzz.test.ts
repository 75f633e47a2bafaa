// Bounded, seeded fuzzing of the IDX parser and gunzip: whatever bytes arrive (a flipped bit, a
// truncated download, a hostile header declaring 4 billion images, a gzip bomb), they either return
// data whose shape matches its bytes, or throw DatasetError naming the file. Never another error
// type, never an allocation sized by the header. Same seeds, same cases: a failure reproduces.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DatasetError, gunzip, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdxImages, parseIdxLabels } from "../../lib/data/idx";
import { seededRandom } from "../../lib/train/shuffle";

type Rng = () => number;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!;

/** Header values that break naive parsers: zero, off by one, sign bit, all ones. */
const NASTY_UINT32 = [0, 1, 2, 3, 27, 28, 29, 255, 256, 60000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const buf = Buffer.alloc(4 + 4 * dims.length + body.length);
  buf.writeUInt32BE(magic >>> 0, 0);
  dims.forEach((d, i) => buf.writeUInt32BE(d >>> 0, 4 + 4 * i));
  buf.set(body, 4 + 4 * dims.length);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const randomBytes = (rng: Rng, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(rng, 256));

/** A well-formed file of a few tiny images or labels, the starting point of most mutations. */
function validFile(rng: Rng, kind: "images" | "labels", size: number, classes: number): Uint8Array {
  const count = int(rng, 6);
  if (kind === "labels")
    return idx(
      IDX_LABELS_MAGIC,
      [count],
      Uint8Array.from({ length: count }, () => int(rng, classes)),
    );
  return idx(IDX_IMAGES_MAGIC, [count, size, size], randomBytes(rng, count * size * size));
}

/** One of several ways a file goes bad; some leave it valid, which is fine: the oracle then checks the data. */
function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const buf = Uint8Array.from(input);
  switch (int(rng, 8)) {
    case 0: // flip a few bits anywhere
      for (let k = 1 + int(rng, 3); k > 0 && buf.length > 0; k--) buf[int(rng, buf.length)]! ^= 1 << int(rng, 8);
      return buf;
    case 1: // truncate
      return buf.subarray(0, int(rng, buf.length + 1));
    case 2: // extra bytes at the end
      return Uint8Array.from([...buf, ...randomBytes(rng, 1 + int(rng, 40))]);
    case 3: {
      // a nasty value in one header word (magic or a dimension)
      const words = Math.max(1, Math.min(4, Math.floor(buf.length / 4)));
      if (buf.length < 4) return buf;
      new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(4 * int(rng, words), pick(rng, NASTY_UINT32), false);
      return buf;
    }
    case 4: // another element type or dimension count
      if (buf.length >= 4) buf[2 + int(rng, 2)] = int(rng, 256);
      return buf;
    case 5: // pure noise, sometimes with a valid magic
      return rng() < 0.5
        ? randomBytes(rng, int(rng, 64))
        : idx(pick(rng, [IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC]), [], randomBytes(rng, int(rng, 64)));
    case 6: // a label value out of range (labels) or garbage pixels (images: still valid)
      if (buf.length > 8) buf[8 + int(rng, buf.length - 8)] = 10 + int(rng, 246);
      return buf;
    default: // empty
      return new Uint8Array(0);
  }
}

/** The oracle: a valid result or a DatasetError whose message starts with the file name. */
function expectValidOrDatasetError(
  fn: () => { data: Uint8Array; shape: number[] },
  input: Uint8Array,
  check: (out: { data: Uint8Array; shape: number[] }) => void,
): "ok" | "error" {
  let out: { data: Uint8Array; shape: number[] };
  try {
    out = fn();
  } catch (err) {
    if (!(err instanceof DatasetError))
      throw new Error(`non-DatasetError ${String(err)} for input ${Buffer.from(input).toString("hex").slice(0, 200)}`);
    expect(err.message.startsWith("fuzz.bin: ")).toBe(true);
    return "error";
  }
  // No allocation sized by the header: the data is a view into the input buffer.
  expect(out.data.buffer).toBe(input.buffer);
  expect(out.data.length).toBe(out.shape.reduce((a, b) => a * b, 1));
  check(out);
  return "ok";
}

describe("IDX parser under seeded fuzzing", () => {
  it.each([1, 2, 3])("parseIdxImages: 1500 mutated image files (seed %i) give consistent shapes or DatasetError", (seed) => {
    const rng = seededRandom(seed);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 1500; i++) {
      const size = 1 + int(rng, 4);
      const base = validFile(rng, rng() < 0.8 ? "images" : "labels", size, 10);
      const input = rng() < 0.9 ? mutate(rng, base) : base;
      outcomes[
        expectValidOrDatasetError(
          () => parseIdxImages(input, "fuzz.bin", { imageSize: size }),
          input,
          (out) => {
            expect(out.shape).toHaveLength(3);
            expect(out.shape.slice(1)).toEqual([size, size]);
            expect(out.data.length).toBe(input.length - 16);
          },
        )
      ]++;
    }
    // Both branches exercised, or the fuzzer tests nothing.
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.error).toBeGreaterThan(500);
  });

  it.each([1, 2, 3])("parseIdxLabels: 1500 mutated label files (seed %i) give labels in 0..classes-1 or DatasetError", (seed) => {
    const rng = seededRandom(100 + seed);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 1500; i++) {
      const classes = 1 + int(rng, 10);
      const base = validFile(rng, rng() < 0.8 ? "labels" : "images", 2, classes);
      const input = rng() < 0.9 ? mutate(rng, base) : base;
      outcomes[
        expectValidOrDatasetError(
          () => parseIdxLabels(input, "fuzz.bin", { numClasses: classes }),
          input,
          (out) => {
            expect(out.shape).toEqual([input.length - 8]);
            expect(out.data.every((l) => l < classes)).toBe(true);
          },
        )
      ]++;
    }
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.error).toBeGreaterThan(500);
  });

  it("rejects headers declaring up to 2^32-1 images without allocating (they exceed the bytes present)", () => {
    for (const count of NASTY_UINT32) {
      const input = idx(IDX_IMAGES_MAGIC, [count, 2, 2], new Uint8Array(8));
      if (count === 2) continue; // the one consistent header
      expect(() => parseIdxImages(input, "fuzz.bin", { imageSize: 2 })).toThrow(
        /^fuzz\.bin: header declares \d+ x 2 x 2 pixels = \d+ data bytes, file has 8/,
      );
    }
  });
});

describe("gunzip under seeded fuzzing", () => {
  const MAX = 64 * 1024;

  it.each([1, 2])("1000 mutated .gz files (seed %i) decompress to at most maxBytes or throw DatasetError", (seed) => {
    const rng = seededRandom(200 + seed);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 1000; i++) {
      const plain = validFile(rng, rng() < 0.5 ? "images" : "labels", 1 + int(rng, 4), 10);
      const gz = new Uint8Array(gzipSync(plain));
      const input = rng() < 0.9 ? mutate(rng, gz) : gz;
      try {
        const out = gunzip(input, "fuzz.gz", MAX);
        expect(out).toBeInstanceOf(Uint8Array);
        expect(out.length).toBeLessThanOrEqual(MAX);
        // Whatever came out goes through the parser, which must in turn return or throw DatasetError.
        for (const parse of [() => parseIdxImages(out, "fuzz.gz", { imageSize: 2 }), () => parseIdxLabels(out, "fuzz.gz")]) {
          try {
            parse();
          } catch (err) {
            expect(err).toBeInstanceOf(DatasetError);
          }
        }
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof DatasetError))
          throw new Error(`non-DatasetError ${String(err)} for ${Buffer.from(input).toString("hex").slice(0, 200)}`);
        expect((err as Error).message).toMatch(
          /^fuzz\.gz: (not a gzip file|gzip data is truncated|corrupt gzip data|decompresses to more than)/,
        );
        outcomes.error++;
      }
    }
    expect(outcomes.ok).toBeGreaterThan(50);
    expect(outcomes.error).toBeGreaterThan(300);
  });

  it("stops a gzip bomb (8 MB of zeros in 8 kB) at maxBytes with a DatasetError", () => {
    const bomb = gzipSync(new Uint8Array(8 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(() => gunzip(bomb, "bomb.gz", MAX)).toThrow(DatasetError);
    expect(() => gunzip(bomb, "bomb.gz", MAX)).toThrow(/^bomb\.gz: decompresses to more than 65536 bytes/);
  });

  it("a flipped bit at any position of a .gz is a DatasetError, or (header bytes 3-9 only) decodes to the same bytes", () => {
    // A flip in the deflate data or the trailer is caught by zlib's CRC-32 and length checks; the header's
    // flags/mtime/OS bytes carry no data. Either way no altered data gets through.
    const rng = seededRandom(7);
    const plain = validFile(rng, "images", 4, 10);
    const gz = new Uint8Array(gzipSync(plain));
    for (let pos = 0; pos < gz.length; pos++) {
      const bad = Uint8Array.from(gz);
      bad[pos]! ^= 0x01;
      try {
        const out = gunzip(bad, "flip.gz", MAX);
        // Decoded despite the flip: only header bytes that carry no data may do that.
        expect(Buffer.from(out).equals(Buffer.from(plain)), `flip at ${pos} of ${gz.length}`).toBe(true);
        expect(pos, `flip at ${pos} of ${gz.length} decoded`).toBeLessThan(10);
      } catch (err) {
        expect(err).toBeInstanceOf(DatasetError);
      }
    }
  });
});
