import { inspect } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { NDArray, NDArrayError } from "../../lib/format/ndarray";
import { seededRandom } from "../../lib/train/shuffle";

// The expected texts at the bottom were produced by real numpy from exactly the values the
// generators below make (written to a file once, read with np.frombuffer); tests never run python.

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// BEGIN generators
/** mulberry32 (lib/random.ts): integer-only, so the values are identical on every machine. */
const prng = seededRandom;

/** Glorot-uniform-like 784x300 weights, like the tutorial's first Dense kernel. */
function glorotKernel(): Float32Array {
  const r = prng(42);
  const limit = Math.sqrt(6 / (784 + 300));
  return Float32Array.from({ length: 784 * 300 }, () => (r() * 2 - 1) * limit);
}

/** A 28x28 uint8 "image": zero background, a bright ellipse with noisy intensities. */
function syntheticImage(): Uint8Array {
  const r = prng(7);
  const img = new Uint8Array(28 * 28);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const inside = ((x - 13.5) / 9) ** 2 + ((y - 13.5) / 12) ** 2 < 1;
      img[y * 28 + x] = inside ? 1 + Math.floor(r() * 255) : 0;
    }
  }
  return img;
}

/** 100 images of 28x28 (78,400 values), enough to be summarised on all three axes. */
function imageStack(): Uint8Array {
  const r = prng(3);
  return Uint8Array.from({ length: 100 * 28 * 28 }, () => (r() < 0.5 ? 0 : Math.floor(r() * 256)));
}
// END generators

const f32 = (values: number[], shape?: number[]) => new NDArray(Float32Array.from(values), shape);

describe("NDArray repr matches numpy", () => {
  it("summarises 784x300 float32 weights with edgeitems 3 and 8-digit columns", () => {
    expect(new NDArray(glorotKernel(), [784, 300]).repr()).toBe(NUMPY.kernel!.repr);
  });

  it("prints all 300 zeros of a bias vector (under the 1000-element threshold) as 0.", () => {
    expect(new NDArray(new Float32Array(300)).repr()).toBe(NUMPY.zeros300!.repr);
  });

  it("prints a whole 28x28 uint8 image (784 < 1000), wrapping each row at 75 columns", () => {
    const text = new NDArray(syntheticImage(), [28, 28]).repr();
    expect(text).toBe(NUMPY.image!.repr);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(75);
  });

  it("summarises a 100x28x28 uint8 stack on every axis, blank line between blocks", () => {
    expect(new NDArray(imageStack(), [100, 28, 28]).repr()).toBe(NUMPY.stack!.repr);
  });

  it.each([
    ["small1d", [1, 2, 3], [3]],
    ["small2d", [1.5, -2.25, 3, 0.1, 100, -0.001], [2, 3]],
    ["negatives", [-1.5, -0.333, -12.75, -0.25, 7], [5]],
    ["tiny", [1e-5, 0.5, 2], [3]],
    ["ratio", [0.001, 2], [2]],
    ["nonfinite", [NaN, Infinity, -Infinity, 1.5], [4]],
    ["wholeFloats", [60000, 28.5, 0], [3]],
  ])("%s: %j", (name, values, shape) => {
    expect(f32(values, shape).repr()).toBe(NUMPY[name]!.repr);
  });

  it("pads rounded probabilities to 2 decimals (0.  , 0.01) and moves the dtype to its own line", () => {
    const probas = [
      [0, 0, 0, 0, 0, 0.01, 0, 0.02, 0, 0.97],
      [0, 0, 0.99, 0, 0.01, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    expect(f32(probas.flat(), [3, 10]).repr()).toBe(NUMPY.probas!.repr);
  });

  it("prints int32 like numpy's default int64: no dtype", () => {
    expect(new NDArray(Int32Array.from([9, 2, 1])).repr()).toBe(NUMPY.argmax!.repr);
    expect(new NDArray(Int32Array.from([-3, 10, 250, 7, 0, -1000, 1, 2]), [2, 4]).repr()).toBe(NUMPY.ints2d!.repr);
  });

  it("matches numpy's str() (print) for 1-D, 2-D, summarised and 3-D arrays", () => {
    expect(f32([1.5, -2.25, 3, 0.1, 100, -0.001], [2, 3]).str()).toBe(NUMPY.small2d!.str);
    expect(new NDArray(glorotKernel(), [784, 300]).str()).toBe(NUMPY.kernel!.str);
    expect(new NDArray(imageStack(), [100, 28, 28]).str()).toBe(NUMPY.stack!.str);
  });

  it("prints empty arrays like numpy", () => {
    expect(new NDArray(new Float32Array(0)).repr()).toBe("array([], dtype=float32)");
    expect(new NDArray(new Float32Array(0), [0, 3]).repr()).toBe("array([], shape=(0, 3), dtype=float32)");
  });

  it("honours print options: threshold and edgeitems", () => {
    const a = f32([1, 2, 3, 4, 5, 6, 7]);
    expect(a.repr({ threshold: 5, edgeitems: 2 })).toBe("array([1., 2., ..., 6., 7.], dtype=float32)");
  });

  it("is what console.log and toString show", () => {
    const a = new NDArray(Uint8Array.from([0, 255]));
    expect(inspect(a)).toBe("array([  0, 255], dtype=uint8)");
    expect(String(a)).toBe("array([  0, 255], dtype=uint8)");
    expect(inspect({ w: f32([0.5]) })).toBe("{ w: array([0.5], dtype=float32) }");
  });
});

describe("NDArray shape and indexing", () => {
  const a = new NDArray(
    Int32Array.from({ length: 24 }, (_, i) => i),
    [2, 3, 4],
  );

  it("reports dtype, size, ndim and shape (a JS array)", () => {
    expect([a.dtype, a.size, a.ndim]).toEqual(["int32", 24, 3]);
    expect(a.shape).toEqual([2, 3, 4]);
    expect(inspect(new NDArray(new Uint8Array(60000 * 28 * 28), [60000, 28, 28]).shape)).toBe("[ 60000, 28, 28 ]");
    expect(f32([1]).dtype).toBe("float32");
    expect(new NDArray(new Uint8Array(1)).dtype).toBe("uint8");
  });

  it("formats the shape as a JS array or a numpy tuple", () => {
    expect(a.formatShape()).toBe("[2, 3, 4]");
    expect(a.formatShape("numpy")).toBe("(2, 3, 4)");
    expect(f32([1, 2]).formatShape("numpy")).toBe("(2,)");
  });

  it("gets elements with positive and negative indices", () => {
    expect(a.get(1, 2, 3)).toBe(23);
    expect(a.get(-1, 0, -1)).toBe(15);
  });

  it("rejects out-of-range indices and wrong index counts", () => {
    expect(() => a.get(2, 0, 0)).toThrow(NDArrayError);
    expect(() => a.get(2, 0, 0)).toThrow(/index 2 is out of bounds for axis 0 with size 2/);
    expect(() => a.get(0, 0)).toThrow(/needs 3 indices for shape \[2, 3, 4\], got 2/);
  });

  it("slices along axis 0 as a view sharing the buffer", () => {
    const s = a.slice(1, 2);
    expect(s.shape).toEqual([1, 3, 4]);
    expect(s.get(0, 0, 0)).toBe(12);
    expect(s.data.buffer).toBe(a.data.buffer);
    expect(a.slice(-1).shape).toEqual([1, 3, 4]);
    expect(a.slice(5, 9).shape).toEqual([0, 3, 4]);
  });

  it("indexes rows along axis 0 as views", () => {
    const r = a.row(-1);
    expect(r.shape).toEqual([3, 4]);
    expect(r.get(0, 0)).toBe(12);
    r.data[0] = 99;
    expect(a.get(1, 0, 0)).toBe(99);
    a.data[12] = 12;
    expect(() => a.row(2)).toThrow(/index 2 is out of bounds for axis 0 with size 2/);
  });

  it("rejects a shape that does not match the data length", () => {
    expect(() => new NDArray(new Float32Array(6), [4, 2])).toThrow(/shape \[4, 2\] holds 8 elements but the data has 6/);
    expect(() => new NDArray(new Float32Array(6), [-2, -3])).toThrow(/shape\[0\] must be a non-negative integer, got -2/);
  });
});

describe("NDArray.fromTensor", () => {
  it("copies float32 and int32 tensors with their shapes", async () => {
    const t = tf.tensor2d([
      [0.5, -1],
      [2, 3],
    ]);
    const a = NDArray.fromTensor(t);
    expect(a.shape).toEqual([2, 2]);
    expect(a.dtype).toBe("float32");
    expect(Array.from(a.data)).toEqual([0.5, -1, 2, 3]);
    a.data[0] = 7; // a copy: the tensor is unchanged
    expect(t.dataSync()[0]).toBe(0.5);
    const i = await NDArray.fromTensorAsync(tf.tensor1d([9, 2, 1], "int32"));
    expect(i.repr()).toBe("array([9, 2, 1])");
    tf.dispose([t]);
  });

  it("turns bool tensors into uint8 and rejects strings", () => {
    const b = tf.tensor1d([1, 0, 1], "bool");
    expect(NDArray.fromTensor(b).repr()).toBe("array([1, 0, 1], dtype=uint8)");
    const s = tf.tensor1d(["a"], "string");
    expect(() => NDArray.fromTensor(s)).toThrow(/tensor dtype "string" is not supported; expected float32, int32 or bool/);
    tf.dispose([b, s]);
  });
});

// Generated once with numpy 1.24.2 (/usr/bin/python3) from the same values; int32 cases were
// cast to int64 first, as this module prints Int32Array like numpy's default integer.
const NUMPY: Record<string, { repr: string; str?: string }> = {
  kernel: {
    repr: [
      "array([[ 0.01504382, -0.00769415,  0.05244547, ...,  0.04611445,",
      "        -0.02797721, -0.00088853],",
      "       [ 0.03723626,  0.00739936,  0.02786606, ...,  0.05223159,",
      "         0.01190933, -0.01263042],",
      "       [ 0.01311753, -0.01321046,  0.01344963, ..., -0.0610759 ,",
      "         0.03471908,  0.00737032],",
      "       ...,",
      "       [-0.04078661,  0.02088723,  0.0088796 , ...,  0.0359005 ,",
      "        -0.04382045, -0.05018294],",
      "       [-0.01958023,  0.02461621,  0.06125755, ...,  0.05881981,",
      "        -0.00701759, -0.04481528],",
      "       [-0.03526163,  0.06426614, -0.02963932, ..., -0.01825439,",
      "        -0.02445959, -0.01518251]], dtype=float32)",
    ].join("\n"),
    str: [
      "[[ 0.01504382 -0.00769415  0.05244547 ...  0.04611445 -0.02797721",
      "  -0.00088853]",
      " [ 0.03723626  0.00739936  0.02786606 ...  0.05223159  0.01190933",
      "  -0.01263042]",
      " [ 0.01311753 -0.01321046  0.01344963 ... -0.0610759   0.03471908",
      "   0.00737032]",
      " ...",
      " [-0.04078661  0.02088723  0.0088796  ...  0.0359005  -0.04382045",
      "  -0.05018294]",
      " [-0.01958023  0.02461621  0.06125755 ...  0.05881981 -0.00701759",
      "  -0.04481528]",
      " [-0.03526163  0.06426614 -0.02963932 ... -0.01825439 -0.02445959",
      "  -0.01518251]]",
    ].join("\n"),
  },
  zeros300: {
    repr: [
      "array([0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,",
      "       0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.], dtype=float32)",
    ].join("\n"),
  },
  image: {
    repr: [
      "array([[  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   3,  16,",
      "        250, 179, 133, 104,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 119,  62, 142,",
      "        187,  66,  40, 195, 133,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,  51,  94,  75, 137,",
      "         76, 250,  64, 224,  49,  37,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,  40,  75, 140, 195,  20,",
      "        233, 142, 159, 174, 247, 160, 235,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0, 212,  11,  45,  92, 109,   6,",
      "         23, 196,  95, 109, 120, 242, 180, 176,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,  85,  91,  36,  34, 233,  83,  49,",
      "        162,  86,  12, 175, 235, 140, 211, 168, 235,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,  30, 136, 166, 228, 245, 214, 152,",
      "        246, 247, 140, 209,   2, 132,  84, 185, 141,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0, 193, 250, 143, 210, 110, 164, 189,",
      "        141,  80,  61,   3,   7, 241, 213, 161,   4,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 158, 152, 183, 254,  71, 252, 166, 206,",
      "        160, 212,  36, 254, 130, 145,  42, 102,  54, 208,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 220, 188, 168, 253, 156, 188, 244, 125,",
      "         59, 149, 203, 218,  49, 142, 122, 135,  46,  64,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 112, 122,  44,   1,  45,   7,  28, 224,",
      "        251,  16,  45, 104, 128, 187,  94,  92, 202, 182,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 205, 136, 204, 106, 144,  75, 135, 199,",
      "         21,  65, 211, 211, 198, 110,  92, 235,  65,  93,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 122, 212, 104, 249, 141, 112,  87, 137,",
      "         75, 226, 146, 252, 215, 127, 112, 178, 238, 141,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 168,  42, 177, 100, 156, 219,  98,  76,",
      "         24, 175, 187, 246,  81,  67,  18, 184, 237, 200,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 212, 246,  58, 250,  73, 138, 100, 182,",
      "        194, 160, 186, 159, 152,  70, 213, 124,  36, 185,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0, 119, 143, 141, 227, 244,  40,  26,  74,",
      "        134, 101, 233, 219, 136, 232,  72, 126, 237, 173,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0, 203,  86, 232, 248, 215,   1,  43,",
      "        192,  27,  22, 233,  70, 151,  67, 203, 184,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,  15, 114, 250,  22,  22,  98, 202,",
      "        177,  70, 127,  28, 124, 112, 139,  43, 197,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,  78, 177, 213,  10,  47, 183, 228,",
      "         72, 215, 165,  83,  25,  28, 253, 177,  66,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0, 133,  19, 132, 109, 199,  42,",
      "        189,  44,  61,  53, 225,   8,   9, 240,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0, 235, 124, 147, 180,  44,",
      "        133,  19, 152, 184, 216,  18, 146,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,  95,  15, 235,  70,",
      "         40,  73,  89, 203, 211, 221,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 198, 181, 221,",
      "        163, 180, 176,  79, 103,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 169,  84,",
      "         62, 127, 153, 173,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0],",
      "       [  0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,",
      "          0,   0]], dtype=uint8)",
    ].join("\n"),
  },
  stack: {
    repr: [
      "array([[[  9,   0,   0, ..., 201, 148,   0],",
      "        [  0, 214,   0, ...,   0,   0, 198],",
      "        [252, 250, 226, ..., 172, 186,   0],",
      "        ...,",
      "        [  0, 138,  60, ...,   5,   0,  43],",
      "        [  0,   0,  76, ..., 214, 105,   0],",
      "        [  0,   0,   0, ..., 162,   0,   0]],",
      "",
      "       [[147,   0, 131, ...,   0,   0, 200],",
      "        [  0,   0, 231, ...,  81,   0, 181],",
      "        [  0, 137,   0, ...,   0,   0, 253],",
      "        ...,",
      "        [  0,   0, 195, ...,  43,   0, 168],",
      "        [150, 243,   0, ...,  37, 175, 179],",
      "        [ 76,   0,   0, ...,   0, 144,   0]],",
      "",
      "       [[  0,   0,   0, ...,   0, 126,   0],",
      "        [  0,   0, 174, ..., 140, 255,   0],",
      "        [ 47, 189, 196, ..., 116,   0, 172],",
      "        ...,",
      "        [215,   0,  35, ...,   0, 192, 163],",
      "        [197,   0,   1, ..., 139,  28,   0],",
      "        [  0,   0,   0, ..., 250,   0,   0]],",
      "",
      "       ...,",
      "",
      "       [[  0,   0,   0, ...,   0, 166, 161],",
      "        [ 68,   0,   0, ...,   0,   0, 111],",
      "        [  0,  44,  52, ...,   0, 136,   0],",
      "        ...,",
      "        [230,   0, 119, ..., 228,   0,   0],",
      "        [  0, 222,   0, ...,  30, 204, 198],",
      "        [  0,   0,   4, ...,   0,   0, 108]],",
      "",
      "       [[155,   0,  29, ...,  49,  95,   0],",
      "        [  0, 175, 228, ...,   0,   5,  21],",
      "        [  0,   0,   1, ...,   0,   0,   0],",
      "        ...,",
      "        [  0, 139, 184, ...,   0,  22, 175],",
      "        [176,  30,   0, ...,   0,   0,   0],",
      "        [  0,   0,  86, ...,   0,   0,  64]],",
      "",
      "       [[139,   0,   0, ...,   0,   0,   0],",
      "        [104,   0,   0, ...,   0,   0,  65],",
      "        [  0,   0, 119, ...,   0,  29,  38],",
      "        ...,",
      "        [180, 249, 119, ..., 103, 170,  82],",
      "        [232, 138, 246, ..., 163, 105, 217],",
      "        [ 74,   0, 182, ...,   0,   0,  78]]], dtype=uint8)",
    ].join("\n"),
    str: [
      "[[[  9   0   0 ... 201 148   0]",
      "  [  0 214   0 ...   0   0 198]",
      "  [252 250 226 ... 172 186   0]",
      "  ...",
      "  [  0 138  60 ...   5   0  43]",
      "  [  0   0  76 ... 214 105   0]",
      "  [  0   0   0 ... 162   0   0]]",
      "",
      " [[147   0 131 ...   0   0 200]",
      "  [  0   0 231 ...  81   0 181]",
      "  [  0 137   0 ...   0   0 253]",
      "  ...",
      "  [  0   0 195 ...  43   0 168]",
      "  [150 243   0 ...  37 175 179]",
      "  [ 76   0   0 ...   0 144   0]]",
      "",
      " [[  0   0   0 ...   0 126   0]",
      "  [  0   0 174 ... 140 255   0]",
      "  [ 47 189 196 ... 116   0 172]",
      "  ...",
      "  [215   0  35 ...   0 192 163]",
      "  [197   0   1 ... 139  28   0]",
      "  [  0   0   0 ... 250   0   0]]",
      "",
      " ...",
      "",
      " [[  0   0   0 ...   0 166 161]",
      "  [ 68   0   0 ...   0   0 111]",
      "  [  0  44  52 ...   0 136   0]",
      "  ...",
      "  [230   0 119 ... 228   0   0]",
      "  [  0 222   0 ...  30 204 198]",
      "  [  0   0   4 ...   0   0 108]]",
      "",
      " [[155   0  29 ...  49  95   0]",
      "  [  0 175 228 ...   0   5  21]",
      "  [  0   0   1 ...   0   0   0]",
      "  ...",
      "  [  0 139 184 ...   0  22 175]",
      "  [176  30   0 ...   0   0   0]",
      "  [  0   0  86 ...   0   0  64]]",
      "",
      " [[139   0   0 ...   0   0   0]",
      "  [104   0   0 ...   0   0  65]",
      "  [  0   0 119 ...   0  29  38]",
      "  ...",
      "  [180 249 119 ... 103 170  82]",
      "  [232 138 246 ... 163 105 217]",
      "  [ 74   0 182 ...   0   0  78]]]",
    ].join("\n"),
  },
  small1d: {
    repr: "array([1., 2., 3.], dtype=float32)",
  },
  small2d: {
    repr: ["array([[ 1.50e+00, -2.25e+00,  3.00e+00],", "       [ 1.00e-01,  1.00e+02, -1.00e-03]], dtype=float32)"].join("\n"),
    str: ["[[ 1.50e+00 -2.25e+00  3.00e+00]", " [ 1.00e-01  1.00e+02 -1.00e-03]]"].join("\n"),
  },
  negatives: {
    repr: "array([ -1.5  ,  -0.333, -12.75 ,  -0.25 ,   7.   ], dtype=float32)",
  },
  tiny: {
    repr: "array([1.e-05, 5.e-01, 2.e+00], dtype=float32)",
  },
  ratio: {
    repr: "array([1.e-03, 2.e+00], dtype=float32)",
  },
  probas: {
    repr: [
      "array([[0.  , 0.  , 0.  , 0.  , 0.  , 0.01, 0.  , 0.02, 0.  , 0.97],",
      "       [0.  , 0.  , 0.99, 0.  , 0.01, 0.  , 0.  , 0.  , 0.  , 0.  ],",
      "       [0.  , 1.  , 0.  , 0.  , 0.  , 0.  , 0.  , 0.  , 0.  , 0.  ]],",
      "      dtype=float32)",
    ].join("\n"),
    str: [
      "[[0.   0.   0.   0.   0.   0.01 0.   0.02 0.   0.97]",
      " [0.   0.   0.99 0.   0.01 0.   0.   0.   0.   0.  ]",
      " [0.   1.   0.   0.   0.   0.   0.   0.   0.   0.  ]]",
    ].join("\n"),
  },
  argmax: {
    repr: "array([9, 2, 1])",
  },
  ints2d: {
    repr: ["array([[   -3,    10,   250,     7],", "       [    0, -1000,     1,     2]])"].join("\n"),
  },
  nonfinite: {
    repr: "array([ nan,  inf, -inf,  1.5], dtype=float32)",
  },
  wholeFloats: {
    repr: "array([6.00e+04, 2.85e+01, 0.00e+00], dtype=float32)",
  },
};
