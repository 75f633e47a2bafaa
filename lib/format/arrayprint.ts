/*
 * numpy/core/arrayprint.py (numpy 1.24, non-legacy paths only): the repr and str of an array, given its
 * flat row-major data, shape and dtype. The float digits come from ./float32.
 */
import { formatPositional, formatScientific } from "./float32";
import { pythonShape } from "./shape";

export type NumericArray = Uint8Array | Int32Array | Float32Array;
export type DType = "uint8" | "int32" | "float32";

/** What the printer reads of an array: NDArray satisfies it. */
export interface Printable {
  readonly data: NumericArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly ndim: number;
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

export const DEFAULT_PRINT: Required<PrintOptions> = {
  linewidth: 75,
  edgeitems: 3,
  threshold: 1000,
  precision: 8,
  suppress: false,
};

type Formatter = (x: number) => string;

/** numpy's `repr(a)`. */
export function arrayRepr(a: Printable, opts: Required<PrintOptions>): string {
  // Int32 stands in for numpy's int64, whose dtype numpy leaves implied (see the file comment).
  const skipDtype = a.dtype === "int32" && a.size > 0;
  const prefix = "array(";
  const suffix = skipDtype ? ")" : ",";
  let lst: string;
  if (a.size > 0 || (a.ndim === 1 && a.shape[0] === 0)) {
    lst = a.size === 0 ? "[]" : array2string(a, { ...opts, linewidth: opts.linewidth - suffix.length }, ", ", prefix);
  } else {
    lst = `[], shape=${pythonShape(a.shape)}`;
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

export function array2string(a: Printable, opts: Required<PrintOptions>, separator: string, prefix: string): string {
  const summarise = a.size > opts.threshold;
  const shown = summarise ? leadingTrailing(a, opts.edgeitems) : Array.from(a.data);
  const format: Formatter = a.dtype === "float32" ? floatFormatter(shown, opts.precision, opts.suppress) : integerFormatter(shown);
  const nextLinePrefix = " " + " ".repeat(prefix.length);
  return formatArray(a, format, opts.linewidth, nextLinePrefix, separator, opts.edgeitems, summarise ? "..." : "");
}

/** The values numpy keeps when summarising (the N-D corners); they alone decide column widths. */
function leadingTrailing(a: Printable, edgeitems: number): number[] {
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
  a: Printable,
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
    for (const s of finite.map((x) => formatScientific(x, { precision, trim: ".", minDigits: -1 }))) {
      const [mant, exp] = s.split("e") as [string, string];
      const [intPart, fracPart = ""] = mant.split(".");
      expSize = Math.max(expSize, exp.length - 1);
      fracLen = Math.max(fracLen, fracPart.length);
      padLeft = Math.max(padLeft, intPart!.length);
    }
    padRight = expSize + 2 + fracLen;
  } else {
    for (const s of finite.map((x) => formatPositional(x, { precision, trim: ".", minDigits: -1 }))) {
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
      return formatScientific(x, { precision: fracLen, trim: "k", minDigits: fracLen, padLeft, expDigits: expSize });
    }
    return formatPositional(x, { precision, trim: ".", minDigits: 0, padLeft, padRight });
  };
}

/** `str()` of a numpy scalar: shortest round-trip digits, `0.0` style, scientific outside [1e-4, 1e16). */
export function scalarStr(x: number, dtype: DType): string {
  if (dtype !== "float32") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x < 0 ? "-inf" : "inf";
  const abs = Math.abs(x);
  if (abs === 0 || (abs >= 1e-4 && abs < 1e16)) {
    return formatPositional(x, { precision: -1, trim: "0", minDigits: -1, cutoff: "total" });
  }
  return formatScientific(x, { precision: -1, trim: "-", minDigits: -1 });
}
