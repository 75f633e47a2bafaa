import { inspect } from "node:util";
import type { Tensor } from "@tensorflow/tfjs";
import { array2string, arrayRepr, DEFAULT_PRINT, type DType, type NumericArray, type PrintOptions, scalarStr } from "./arrayprint";
import { pythonShape } from "./shape";
import { UserError } from "../errors/user-error";

/**
 * A numpy-style view of a typed array: a flat, row-major (C order) `data` buffer plus a `shape`.
 * It exists so notebooks can show arrays the way the tutorial does (`X_train.shape`, `weights`),
 * with numpy's own repr, without holding tfjs tensors (which must be disposed) around.
 *
 * Printing follows numpy 1.24's `array_repr` with the default print options (linewidth 75,
 * edgeitems 3, threshold 1000, precision 8, floatmode "maxprec"), including Dragon4 shortest
 * float32 digits (./float32). Known differences from numpy, all deliberate:
 * - Int32Array data prints like numpy's default integer (int64 on Linux), i.e. without a dtype,
 *   because int32 is tfjs's default integer type just as int64 is numpy's: `np.argmax` results in
 *   the tutorial print as `array([9, 2, 1])`, and so do ours. numpy would add `dtype=int32`.
 * - Only uint8, int32 and float32 exist (the dtypes tfjs and the IDX files produce); tfjs `bool`
 *   tensors become uint8 arrays (0/1), not numpy's `True`/`False`.
 * - `formatShape()` prints `[60000, 28, 28]` (the JS array) by default; pass "numpy" for `(60000, 28, 28)`.
 */

export type { DType, NumericArray, PrintOptions } from "./arrayprint";

/** Thrown for a bad shape, index or dtype; the message names the value and what was expected. */
export class NDArrayError extends UserError {
  override name = "NDArrayError";
}

export class NDArray<T extends NumericArray = Float32Array> {
  /** Row-major element buffer; `slice`/`row` return views that share it. */
  readonly data: T;
  /** Dimensions, outermost first, e.g. `[60000, 28, 28]` for the training images. */
  readonly shape: number[];

  /** Wraps `data` (not copied). `shape` defaults to `[data.length]` and must multiply out to `data.length`. */
  constructor(data: T, shape: readonly number[] = [data.length]) {
    for (const [axis, n] of shape.entries()) {
      if (!Number.isInteger(n) || n < 0) {
        throw new NDArrayError(`shape[${axis}] must be a non-negative integer, got ${n} in [${shape.join(", ")}]`);
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new NDArrayError(
        `shape [${shape.join(", ")}] holds ${size} elements but the data has ${data.length}; ` +
          `the product of the shape must equal the data length`,
      );
    }
    this.data = data;
    this.shape = [...shape];
    Object.freeze(this.shape);
  }

  /**
   * Copies a tensor's values out synchronously (`dataSync`). float32 -> Float32Array,
   * int32 -> Int32Array, bool -> Uint8Array. The copy stays valid after the tensor is disposed.
   */
  static fromTensor(t: Tensor): NDArray<NumericArray> {
    return NDArray.fromValues(t.dtype, t.dataSync(), t.shape);
  }

  /** Like `fromTensor`, but downloads with `await t.data()` so a GPU/wasm backend need not block. */
  static async fromTensorAsync(t: Tensor): Promise<NDArray<NumericArray>> {
    return NDArray.fromValues(t.dtype, await t.data(), t.shape);
  }

  private static fromValues(dtype: string, values: unknown, shape: number[]): NDArray<NumericArray> {
    // Copy: on the cpu backend dataSync hands out the tensor's own buffer, and writes through a
    // view would silently change the tensor.
    if (dtype === "float32") return new NDArray(Float32Array.from(values as Float32Array), shape);
    if (dtype === "int32") return new NDArray(Int32Array.from(values as Int32Array), shape);
    if (dtype === "bool") return new NDArray(Uint8Array.from(values as Uint8Array), shape);
    throw new NDArrayError(`tensor dtype "${dtype}" is not supported; expected float32, int32 or bool`);
  }

  get dtype(): DType {
    if (this.data instanceof Float32Array) return "float32";
    if (this.data instanceof Int32Array) return "int32";
    return "uint8";
  }

  /** Number of elements (numpy's `size`). */
  get size(): number {
    return this.data.length;
  }

  /** Number of axes (numpy's `ndim`). */
  get ndim(): number {
    return this.shape.length;
  }

  /** The element at one index per axis; negative indices count from the end, as in numpy. */
  get(...idx: number[]): number {
    if (idx.length !== this.ndim) {
      throw new NDArrayError(`get() needs ${this.ndim} indices for shape [${this.shape.join(", ")}], got ${idx.length}`);
    }
    let offset = 0;
    for (let axis = 0; axis < idx.length; axis++) {
      offset = offset * this.shape[axis]! + this.normalizeIndex(idx[axis]!, axis);
    }
    return this.data[offset]!;
  }

  /** Rows `start` (inclusive) to `end` (exclusive) along axis 0, like `a[start:end]`: a view, no copy. */
  slice(start = 0, end?: number): NDArray<T> {
    const n = this.axis0Length("slice");
    const clamp = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const lo = clamp(start);
    const hi = Math.max(lo, clamp(end ?? n));
    const rowSize = this.rowSize();
    return new NDArray(this.data.subarray(lo * rowSize, hi * rowSize) as T, [hi - lo, ...this.shape.slice(1)]);
  }

  /** Index `i` along axis 0, like `a[i]`: an array of one less dimension sharing the buffer. */
  row(i: number): NDArray<T> {
    this.axis0Length("row");
    const k = this.normalizeIndex(i, 0);
    const rowSize = this.rowSize();
    return new NDArray(this.data.subarray(k * rowSize, (k + 1) * rowSize) as T, this.shape.slice(1));
  }

  /** The shape as text: `[60000, 28, 28]` (default, as console.log shows `shape`) or numpy's `(60000, 28, 28)`. */
  formatShape(style: "js" | "numpy" = "js"): string {
    return style === "numpy" ? pythonShape(this.shape) : `[${this.shape.join(", ")}]`;
  }

  /** numpy's `repr(a)`: `array([[ 0.02448617, -0.00877795, ...]], dtype=float32)`. */
  repr(options: PrintOptions = {}): string {
    return arrayRepr(this, { ...DEFAULT_PRINT, ...options });
  }

  /** numpy's `str(a)` (what `print(a)` shows): brackets and spaces, no commas or dtype. */
  str(options: PrintOptions = {}): string {
    const opts = { ...DEFAULT_PRINT, ...options };
    if (this.size === 0) return "[]";
    if (this.ndim === 0) return scalarStr(this.data[0]!, this.dtype);
    return array2string(this, opts, " ", "");
  }

  toString(): string {
    return this.repr();
  }

  /** console.log and the tslab notebook display show the numpy repr instead of the object's fields. */
  [inspect.custom](): string {
    return this.repr();
  }

  private axis0Length(op: string): number {
    if (this.ndim === 0) throw new NDArrayError(`${op}() needs at least one axis, but this array is 0-dimensional`);
    return this.shape[0]!;
  }

  private rowSize(): number {
    return this.shape.slice(1).reduce((a, b) => a * b, 1);
  }

  private normalizeIndex(i: number, axis: number): number {
    const n = this.shape[axis]!;
    if (!Number.isInteger(i) || i < -n || i >= n) {
      // numpy's own wording, so the message reads like the tutorial's error would
      throw new NDArrayError(`index ${i} is out of bounds for axis ${axis} with size ${n}`);
    }
    return i < 0 ? i + n : i;
  }
}
