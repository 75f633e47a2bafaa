import { inspect } from "node:util";
import type { Tensor } from "@tensorflow/tfjs";

/**
 * A numpy-style view of a typed array: a flat, row-major (C order) `data` buffer plus a `shape`.
 * It exists so notebooks can show arrays the way the tutorial does (`X_train.shape`, `weights`),
 * with numpy's own repr, without holding tfjs tensors (which must be disposed) around.
 *
 * Printing follows numpy 1.24's `array_repr` with the default print options (linewidth 75,
 * edgeitems 3, threshold 1000, precision 8, floatmode "maxprec"), including Dragon4 shortest
 * float32 digits. Known differences from numpy, all deliberate:
 * - Int32Array data prints like numpy's default integer (int64 on Linux), i.e. without a dtype,
 *   because int32 is tfjs's default integer type just as int64 is numpy's: `np.argmax` results in
 *   the tutorial print as `array([9, 2, 1])`, and so do ours. numpy would add `dtype=int32`.
 * - Only uint8, int32 and float32 exist (the dtypes tfjs and the IDX files produce); tfjs `bool`
 *   tensors become uint8 arrays (0/1), not numpy's `True`/`False`.
 * - `formatShape()` prints `[60000, 28, 28]` (the JS array) by default; pass "numpy" for `(60000, 28, 28)`.
 */

export type NumericArray = Uint8Array | Int32Array | Float32Array;
export type DType = "uint8" | "int32" | "float32";

/** Thrown for a bad shape, index or dtype; the message names the value and what was expected. */
export class NDArrayError extends Error {
  override name = "NDArrayError";
}

/** numpy's print options (`np.set_printoptions`) that this module honours; defaults are numpy's. */
export interface PrintOptions {
  /** Characters per line before wrapping (numpy: 75). */
  linewidth?: number;
  /** Items shown at each end of an axis when the array is summarised (numpy: 3). */
  edgeitems?: number;
  /** Arrays with more elements than this are summarised with "..." (numpy: 1000). */
  threshold?: number;
  /** Maximum digits after the decimal point for floats (numpy: 8). */
  precision?: number;
  /** If true, never switch to scientific notation for small values (numpy: false). */
  suppress?: boolean;
}

const DEFAULT_PRINT: Required<PrintOptions> = {
  linewidth: 75,
  edgeitems: 3,
  threshold: 1000,
  precision: 8,
  suppress: false,
};

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
    return style === "numpy" ? pythonTuple(this.shape) : `[${this.shape.join(", ")}]`;
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

/** Python's tuple repr of a shape: `(300,)`, `(60000, 28, 28)`, `()`. */
function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// numpy/core/arrayprint.py, non-legacy paths only.

type Formatter = (x: number) => string;

function arrayRepr(a: NDArray<NumericArray>, opts: Required<PrintOptions>): string {
  // Int32 stands in for numpy's int64, whose dtype numpy leaves implied (see the file comment).
  const skipDtype = a.dtype === "int32" && a.size > 0;
  const prefix = "array(";
  const suffix = skipDtype ? ")" : ",";
  let lst: string;
  if (a.size > 0 || (a.ndim === 1 && a.shape[0] === 0)) {
    lst = a.size === 0 ? "[]" : array2string(a, { ...opts, linewidth: opts.linewidth - suffix.length }, ", ", prefix);
  } else {
    lst = `[], shape=${pythonTuple(a.shape)}`;
  }
  const arrStr = prefix + lst + suffix;
  if (skipDtype) return arrStr;
  const dtypeName = a.dtype === "int32" ? "int64" : a.dtype;
  const dtypeStr = `dtype=${dtypeName})`;
  // numpy moves the dtype to its own line when it would overflow the last line
  const lastLineLen = arrStr.length - (arrStr.lastIndexOf("\n") + 1);
  const spacer = lastLineLen + dtypeStr.length + 1 > opts.linewidth ? "\n" + " ".repeat(prefix.length) : " ";
  return arrStr + spacer + dtypeStr;
}

function array2string(a: NDArray<NumericArray>, opts: Required<PrintOptions>, separator: string, prefix: string): string {
  const summarise = a.size > opts.threshold;
  const shown = summarise ? leadingTrailing(a, opts.edgeitems) : Array.from(a.data);
  const format: Formatter = a.dtype === "float32" ? floatFormatter(shown, opts.precision, opts.suppress) : integerFormatter(shown);
  const nextLinePrefix = " " + " ".repeat(prefix.length);
  return formatArray(a, format, opts.linewidth, nextLinePrefix, separator, opts.edgeitems, summarise ? "..." : "");
}

/** The values numpy keeps when summarising (the N-D corners); they alone decide column widths. */
function leadingTrailing(a: NDArray<NumericArray>, edgeitems: number): number[] {
  const out: number[] = [];
  const strides = stridesOf(a.shape);
  const walk = (axis: number, offset: number): void => {
    if (axis === a.ndim) {
      out.push(a.data[offset]!);
      return;
    }
    const n = a.shape[axis]!;
    const idx = n > 2 * edgeitems ? [...range(0, edgeitems), ...range(n - edgeitems, n)] : range(0, n);
    for (const i of idx) walk(axis + 1, offset + i * strides[axis]!);
  };
  walk(0, 0);
  return out;
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

function extendLine(s: string, line: string, word: string, lineWidth: number, nextLinePrefix: string): [string, string] {
  let needsWrap = line.length + word.length > lineWidth;
  // don't wrap lines if it won't help
  if (line.length <= nextLinePrefix.length) needsWrap = false;
  if (needsWrap) {
    s += line.trimEnd() + "\n";
    line = nextLinePrefix;
  }
  return [s, line + word];
}

function formatArray(
  a: NDArray<NumericArray>,
  format: Formatter,
  lineWidth: number,
  nextLinePrefix: string,
  separator: string,
  edgeItems: number,
  summaryInsert: string,
): string {
  const strides = stridesOf(a.shape);
  const sepTrimmed = separator.trimEnd();
  const recurse = (axis: number, offset: number, hangingIndent: string, currWidth: number): string => {
    const axesLeft = a.ndim - axis;
    if (axesLeft === 0) return format(a.data[offset]!);
    // when recursing, add a space to align with the [ added, and reduce the line length by 1
    const nextHanging = hangingIndent + " ";
    const nextWidth = currWidth - 1;
    const aLen = a.shape[axis]!;
    const showSummary = summaryInsert !== "" && 2 * edgeItems < aLen;
    const leading = showSummary ? edgeItems : 0;
    const trailing = showSummary ? edgeItems : aLen;
    const child = (i: number) => recurse(axis + 1, offset + i * strides[axis]!, nextHanging, nextWidth);
    let s = "";
    if (axesLeft === 1) {
      const elemWidth = currWidth - Math.max(sepTrimmed.length, 1);
      let line = hangingIndent;
      for (let i = 0; i < leading; i++) {
        [s, line] = extendLine(s, line, child(i), elemWidth, hangingIndent);
        line += separator;
      }
      if (showSummary) {
        [s, line] = extendLine(s, line, summaryInsert, elemWidth, hangingIndent);
        line += separator;
      }
      for (let i = trailing; i > 1; i--) {
        [s, line] = extendLine(s, line, child(aLen - i), elemWidth, hangingIndent);
        line += separator;
      }
      [s, line] = extendLine(s, line, child(aLen - 1), elemWidth, hangingIndent);
      s += line;
    } else {
      const lineSep = sepTrimmed + "\n".repeat(axesLeft - 1);
      for (let i = 0; i < leading; i++) s += hangingIndent + child(i) + lineSep;
      if (showSummary) s += hangingIndent + summaryInsert + lineSep;
      for (let i = trailing; i > 1; i--) s += hangingIndent + child(aLen - i) + lineSep;
      s += hangingIndent + child(aLen - 1);
    }
    return "[" + s.slice(hangingIndent.length) + "]";
  };
  return recurse(0, 0, nextLinePrefix, lineWidth);
}

/** numpy's IntegerFormat: right-aligned to the widest of max and min. */
function integerFormatter(shown: number[]): Formatter {
  let width = 0;
  if (shown.length > 0) {
    let max = -Infinity;
    let min = Infinity;
    for (const v of shown) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    width = Math.max(String(max).length, String(min).length);
  }
  return (x) => String(x).padStart(width);
}

/** numpy's FloatingFormat with floatmode "maxprec" and sign "-". */
function floatFormatter(shown: number[], precision: number, suppress: boolean): Formatter {
  const finite = shown.filter((v) => Number.isFinite(v));
  const absNonZero = finite.filter((v) => v !== 0).map(Math.abs);
  let expFormat = false;
  if (absNonZero.length > 0) {
    let max = 0;
    let min = Infinity;
    for (const v of absNonZero) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    // numpy divides in float32 but compares with 1e-4 in float64
    if (max >= 1e8 || (!suppress && (min < 1e-4 || Math.fround(max / min) > 1000))) expFormat = true;
  }

  let padLeft = 0;
  let padRight = 0;
  let expSize = -1;
  let fracLen = 0;
  if (expFormat) {
    for (const s of finite.map((x) => formatScientific(x, { precision, unique: true, trim: ".", minDigits: -1 }))) {
      const [mant, exp] = s.split("e") as [string, string];
      const [intPart, fracPart = ""] = mant.split(".");
      expSize = Math.max(expSize, exp.length - 1);
      fracLen = Math.max(fracLen, fracPart.length);
      padLeft = Math.max(padLeft, intPart!.length);
    }
    padRight = expSize + 2 + fracLen;
  } else {
    for (const s of finite.map((x) => formatPositional(x, { precision, unique: true, trim: ".", minDigits: -1 }))) {
      const [intPart, fracPart = ""] = s.split(".");
      padLeft = Math.max(padLeft, intPart!.length);
      padRight = Math.max(padRight, fracPart.length);
    }
  }
  if (finite.length !== shown.length) {
    // widen so "nan" and "-inf" line up with the numbers
    const negInf = shown.some((v) => v === -Infinity);
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 3 - offset, 3 + (negInf ? 1 : 0) - offset);
  }

  return (x) => {
    if (!Number.isFinite(x)) {
      const ret = Number.isNaN(x) ? "nan" : x < 0 ? "-inf" : "inf";
      return " ".repeat(Math.max(0, padLeft + padRight + 1 - ret.length)) + ret;
    }
    if (expFormat) {
      return formatScientific(x, { precision: fracLen, unique: true, trim: "k", minDigits: fracLen, padLeft, expDigits: expSize });
    }
    return formatPositional(x, { precision, unique: true, trim: ".", minDigits: 0, padLeft, padRight });
  };
}

/** `str()` of a numpy scalar: shortest round-trip digits, `0.0` style, scientific outside [1e-4, 1e16). */
function scalarStr(x: number, dtype: DType): string {
  if (dtype !== "float32") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x < 0 ? "-inf" : "inf";
  const abs = Math.abs(x);
  if (abs === 0 || (abs >= 1e-4 && abs < 1e16)) {
    return formatPositional(x, { precision: -1, unique: true, trim: "0", minDigits: -1, cutoff: "total" });
  }
  return formatScientific(x, { precision: -1, unique: true, trim: "-", minDigits: -1 });
}

// ---------------------------------------------------------------------------------------------
// Dragon4 (numpy/_core/src/multiarray/dragon4.c) for IEEE binary32, with BigInt arithmetic.

/** Trim modes: "k" keep, "." trim zeros keep point, "0" leave one zero, "-" trim zeros and point. */
type Trim = "k" | "." | "0" | "-";

interface FloatFormatOptions {
  /** Max digits (-1: unlimited): after the point for positional, after the first digit for scientific. */
  precision: number;
  unique: boolean;
  trim: Trim;
  minDigits: number;
  padLeft?: number;
  padRight?: number;
  expDigits?: number;
  /** Whether `precision` counts digits after the point ("fraction", arrays) or all digits ("total"). */
  cutoff?: "total" | "fraction";
}

interface Float32Parts {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
  mantissaBit: number;
  hasUnequalMargins: boolean;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function float32Parts(x: number): Float32Parts {
  f32[0] = x;
  const bits = u32[0]!;
  const floatMantissa = bits & 0x7fffff;
  const floatExponent = (bits >>> 23) & 0xff;
  const negative = bits >>> 31 !== 0;
  if (floatExponent !== 0) {
    return {
      negative,
      mantissa: BigInt((1 << 23) | floatMantissa),
      exponent: floatExponent - 127 - 23,
      mantissaBit: 23,
      hasUnequalMargins: floatExponent !== 1 && floatMantissa === 0,
    };
  }
  return {
    negative,
    mantissa: BigInt(floatMantissa),
    exponent: 1 - 127 - 23,
    mantissaBit: floatMantissa === 0 ? 0 : 31 - Math.clz32(floatMantissa),
    hasUnequalMargins: false,
  };
}

const LOG10_2 = Math.log10(2);
const BUFFER_SIZE = 16384;

/** Digits of |value| and the decimal exponent of the first digit (numpy's Dragon4()). */
function dragon4(
  p: Float32Parts,
  unique: boolean,
  cutoffMode: "total" | "fraction",
  cutoffMax: number,
  cutoffMin: number,
): { digits: string; exponent: number } {
  const { mantissa, exponent } = p;
  if (mantissa === 0n) return { digits: "0", exponent: 0 };
  const isEven = (mantissa & 1n) === 0n;
  // value = scaledValue / scale; the margins are half the gaps to the neighbouring floats
  let scaledValue: bigint;
  let scale: bigint;
  let marginLow: bigint;
  if (p.hasUnequalMargins) {
    if (exponent > 0) {
      scaledValue = mantissa << BigInt(exponent + 2);
      scale = 4n;
      marginLow = 1n << BigInt(exponent);
    } else {
      scaledValue = mantissa << 2n;
      scale = 1n << BigInt(-exponent + 2);
      marginLow = 1n;
    }
  } else if (exponent > 0) {
    scaledValue = mantissa << BigInt(exponent + 1);
    scale = 2n;
    marginLow = 1n << BigInt(exponent);
  } else {
    scaledValue = mantissa << 1n;
    scale = 1n << BigInt(-exponent + 1);
    marginLow = 1n;
  }
  const marginHigh = () => (p.hasUnequalMargins ? marginLow * 2n : marginLow);

  let digitExponent = Math.ceil((p.mantissaBit + exponent) * LOG10_2 - 0.69);
  if (cutoffMax >= 0 && cutoffMode === "fraction" && digitExponent <= -cutoffMax) {
    digitExponent = -cutoffMax + 1;
  }
  if (digitExponent > 0) {
    scale *= 10n ** BigInt(digitExponent);
  } else if (digitExponent < 0) {
    const pow10 = 10n ** BigInt(-digitExponent);
    scaledValue *= pow10;
    marginLow *= pow10;
  }
  if (scaledValue >= scale) {
    digitExponent += 1;
  } else {
    scaledValue *= 10n;
    marginLow *= 10n;
  }

  let cutoffMaxExponent = digitExponent - BUFFER_SIZE;
  if (cutoffMax >= 0) {
    const desired = cutoffMode === "total" ? digitExponent - cutoffMax : -cutoffMax;
    if (desired > cutoffMaxExponent) cutoffMaxExponent = desired;
  }
  let cutoffMinExponent = digitExponent;
  if (cutoffMin >= 0) {
    const desired = cutoffMode === "total" ? digitExponent - cutoffMin : -cutoffMin;
    if (desired < cutoffMinExponent) cutoffMinExponent = desired;
  }
  let outExponent = digitExponent - 1;

  const digits: number[] = [];
  let low = false;
  let high = false;
  let outputDigit: number;
  if (unique) {
    for (;;) {
      digitExponent -= 1;
      outputDigit = Number(scaledValue / scale);
      scaledValue %= scale;
      const scaledValueHigh = scaledValue + marginHigh();
      low = isEven ? scaledValue <= marginLow : scaledValue < marginLow;
      high = isEven ? scaledValueHigh >= scale : scaledValueHigh > scale;
      if (((low || high) && digitExponent <= cutoffMinExponent) || digitExponent === cutoffMaxExponent) break;
      digits.push(outputDigit);
      scaledValue *= 10n;
      marginLow *= 10n;
    }
  } else {
    for (;;) {
      digitExponent -= 1;
      outputDigit = Number(scaledValue / scale);
      scaledValue %= scale;
      if (scaledValue === 0n || digitExponent === cutoffMaxExponent) break;
      digits.push(outputDigit);
      scaledValue *= 10n;
    }
  }

  // round the final digit to nearest, ties to even (unless only one direction stays unique)
  let roundDown = low;
  if (low === high) {
    const twice = scaledValue * 2n;
    roundDown = twice < scale;
    if (twice === scale) roundDown = (outputDigit & 1) === 0;
  }
  if (roundDown) {
    digits.push(outputDigit);
  } else if (outputDigit === 9) {
    for (;;) {
      if (digits.length === 0) {
        digits.push(1);
        outExponent += 1;
        break;
      }
      const last = digits.pop()!;
      if (last !== 9) {
        digits.push(last + 1);
        break;
      }
    }
  } else {
    digits.push(outputDigit + 1);
  }
  return { digits: digits.join(""), exponent: outExponent };
}

/** numpy's `dragon4_positional` for a float32 value (fractional cutoff, sign only when negative). */
function formatPositional(x: number, o: FloatFormatOptions): string {
  const p = float32Parts(x);
  const sign = p.negative ? "-" : "";
  const { digits, exponent: printExponent } = dragon4(p, o.unique, o.cutoff ?? "fraction", o.precision, o.minDigits);
  let body: string;
  let numWholeDigits: number;
  let numFractionDigits: number;
  if (printExponent >= 0) {
    numWholeDigits = printExponent + 1;
    if (digits.length <= numWholeDigits) {
      body = digits + "0".repeat(numWholeDigits - digits.length);
      numFractionDigits = 0;
    } else {
      body = digits.slice(0, numWholeDigits) + "." + digits.slice(numWholeDigits);
      numFractionDigits = digits.length - numWholeDigits;
    }
  } else {
    const zeros = -(printExponent + 1);
    body = "0." + "0".repeat(zeros) + digits;
    numFractionDigits = digits.length + zeros;
    numWholeDigits = 1;
  }
  if (o.trim !== "-" && numFractionDigits === 0) body += ".";
  const addDigits = o.unique ? o.minDigits : o.precision;
  const desiredFractionalDigits = o.cutoff === "total" ? addDigits - numWholeDigits : Math.max(addDigits, 0);
  if (o.trim === "0") {
    if (numFractionDigits === 0) {
      body += "0";
      numFractionDigits++;
    }
  } else if (o.trim === "k" && desiredFractionalDigits > numFractionDigits) {
    body += "0".repeat(desiredFractionalDigits - numFractionDigits);
    numFractionDigits = desiredFractionalDigits;
  }
  if (o.trim !== "k" && numFractionDigits > 0) {
    while (body.endsWith("0")) {
      body = body.slice(0, -1);
      numFractionDigits--;
    }
    if (body.endsWith(".")) {
      if (o.trim === "0") {
        body += "0";
        numFractionDigits++;
      } else if (o.trim === "-") {
        body = body.slice(0, -1);
      }
    }
  }
  let out = sign + body;
  const padRight = o.padRight ?? -1;
  if (padRight >= numFractionDigits) {
    if (o.trim === "-" && numFractionDigits === 0) out += " ";
    out += " ".repeat(padRight - numFractionDigits);
  }
  const padLeft = o.padLeft ?? -1;
  const leftChars = numWholeDigits + sign.length;
  if (padLeft > leftChars) out = " ".repeat(padLeft - leftChars) + out;
  return out;
}

/** numpy's `dragon4_scientific` for a float32 value: `d.ddde±XX`. */
function formatScientific(x: number, o: FloatFormatOptions): string {
  const p = float32Parts(x);
  const sign = p.negative ? "-" : "";
  const leftChars = 1 + sign.length;
  const padLeft = o.padLeft ?? -1;
  let out = padLeft > leftChars ? " ".repeat(padLeft - leftChars) : "";
  out += sign;
  const { digits, exponent } = dragon4(
    p,
    o.unique,
    "total",
    o.precision < 0 ? -1 : o.precision + 1,
    o.minDigits < 0 ? -1 : o.minDigits + 1,
  );
  let mant = digits[0]!;
  let numFractionDigits = digits.length - 1;
  if (numFractionDigits > 0) mant += "." + digits.slice(1);
  if (o.trim !== "-" && numFractionDigits === 0) mant += ".";
  const addDigits = Math.max(0, o.unique ? o.minDigits : o.precision);
  if (o.trim === "0") {
    if (numFractionDigits === 0) {
      mant += "0";
      numFractionDigits++;
    }
  } else if (o.trim === "k" && addDigits > numFractionDigits) {
    mant += "0".repeat(addDigits - numFractionDigits);
    numFractionDigits = addDigits;
  }
  if (o.trim !== "k" && numFractionDigits > 0) {
    mant = mant.replace(/0+$/, "");
    if (o.trim === "0" && mant.endsWith(".")) mant += "0";
  }
  let expDigits = o.expDigits ?? -1;
  if (expDigits > 5) expDigits = 5;
  if (expDigits < 0) expDigits = 2;
  const expText = String(Math.abs(exponent)).padStart(expDigits, "0");
  return out + mant + "e" + (exponent >= 0 ? "+" : "-") + expText;
}
