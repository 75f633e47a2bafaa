/*
 * numpy's float32 text (`format_float_positional` / `format_float_scientific`) without Dragon4's bignums.
 * ECMA-262 rounds `toExponential(p - 1)` (p significant digits) to the nearest decimal, so the first p in 1..9
 * whose digits read back as the same float32 (`Math.fround`) gives the shortest round-trip digits, which is
 * what numpy's unique mode prints. Two details keep it numpy's to the digit: numpy breaks an exact tie between
 * two candidates half to even where ECMA rounds up (`roundedDigits` checks for the tie), and at a power of two
 * the decimal just above may read back when the nearest does not. Where numpy cuts digits off (a precision)
 * or prints more than the shortest (min_digits, every whole digit of a large number), it rounds the exact
 * value, which `toExponential(100)` gives. Checked against the former Dragon4 port on ~70,000 float32 values.
 */

/** Decimal digits (no trailing zeros, "0" for zero) and the power of ten of the first one. */
interface Digits {
  digits: string;
  exponent: number;
}

/** Trim modes: "k" keep, "." trim zeros keep point, "0" leave one zero, "-" trim zeros and point. */
export type Trim = "k" | "." | "0" | "-";

export interface FloatFormatOptions {
  /** Max digits (-1: unlimited): after the point for positional, after the first digit for scientific. */
  precision: number;
  trim: Trim;
  /** Min digits (-1: none), counted like `precision`: past the shortest ones, the exact value's digits. */
  minDigits: number;
  padLeft?: number;
  padRight?: number;
  expDigits?: number;
  /** Whether `precision` counts digits after the point ("fraction", arrays) or all digits ("total", scalars). */
  cutoff?: "total" | "fraction";
}

function parseExponential(s: string): Digits {
  const [mantissa = "", exponent = "0"] = s.split("e");
  return { digits: mantissa.replace(".", "").replace(/0+$/, "") || "0", exponent: Number(exponent) };
}

/** The value of `d`, as a double. */
const numberOf = (d: Digits): number => Number(`0.${d.digits}e${d.exponent + 1}`);

/** The shortest digits of |x| (exact digits `exact`) that read back as the same float32, nearest first. */
function shortestDigits(abs: number, exact: Digits): Digits {
  for (let p = 1; p < 9; p++) {
    const nearest = roundedDigits(abs, exact, p);
    if (Math.fround(numberOf(nearest)) === abs) return nearest;
    // A power of two has twice as much room above it as below, so the p-digit decimal just above may read
    // back when the nearest one, below, does not (2**87 prints 1.5474251e+26, as numpy does).
    if (numberOf(nearest) < abs) {
      const units = String(Number(nearest.digits.padEnd(p, "0")) + 1);
      const up = { digits: units.replace(/0+$/, ""), exponent: nearest.exponent + units.length - p };
      if (Math.fround(numberOf(up)) === abs) return up;
    }
  }
  return roundedDigits(abs, exact, 9); // 9 digits always round-trip a float32
}

/** |x| (its exact digits `exact`) rounded to `n` significant digits, half to even; n <= 0 rounds below the first digit. */
function roundedDigits(abs: number, exact: Digits, n: number): Digits {
  if (n <= 0) return { digits: n === 0 && exact.digits > "5" ? "1" : "0", exponent: exact.exponent - n + 1 };
  if (exact.digits.length <= n) return exact;
  const tie = exact.digits.length === n + 1 && exact.digits.endsWith("5");
  if (tie && Number(exact.digits[n - 1]) % 2 === 0) {
    return { digits: exact.digits.slice(0, n).replace(/0+$/, "") || "0", exponent: exact.exponent };
  }
  return parseExponential(abs.toExponential(n - 1));
}

/**
 * numpy's unique-mode digits of |x| under a budget of at most `max` and at least `min` digits (-1: no bound),
 * counted after the point ("fraction") or in all ("total"). Past the shortest digits numpy prints the exact
 * value's: every whole digit of a large number, and `min` digits in scientific columns.
 */
function digitsOf(abs: number, max: number, min: number, mode: "total" | "fraction"): Digits {
  if (abs === 0) return { digits: "0", exponent: 0 };
  // toExponential(100) is exact for every float32 whose digits are short enough to make a tie
  const exact = parseExponential(abs.toExponential(100));
  const shortest = shortestDigits(abs, exact);
  const sig = (count: number, d: Digits) => (mode === "total" ? count : d.exponent + 1 + count);
  if (max >= 0 && shortest.digits.length > sig(max, shortest)) return roundedDigits(abs, exact, sig(max, exact));
  if (min >= 0 && shortest.digits.length < sig(min, shortest)) return roundedDigits(abs, exact, sig(min, exact));
  return shortest;
}

/** The digits `body` ends with after the trim rules; returns the text and its count of fraction digits. */
function applyTrim(body: string, fraction: number, trim: Trim, want: number): [string, number] {
  if (trim !== "-" && fraction === 0) body += ".";
  if (trim === "0" && fraction === 0) return [body + "0", 1];
  if (trim === "k" && want > fraction) return [body + "0".repeat(want - fraction), want];
  if (trim === "k" || fraction === 0) return [body, fraction];
  const trimmed = body.replace(/0+$/, "");
  fraction -= body.length - trimmed.length;
  if (!trimmed.endsWith(".")) return [trimmed, fraction];
  if (trim === "0") return [trimmed + "0", 1];
  return [trim === "-" ? trimmed.slice(0, -1) : trimmed, 0];
}

/** numpy's `dragon4_positional` for a float32 value (sign only when negative). */
export function formatPositional(x: number, o: FloatFormatOptions): string {
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const cutoff = o.cutoff ?? "fraction";
  const { digits, exponent } = digitsOf(Math.abs(x), o.precision, o.minDigits, cutoff);
  const whole = Math.max(exponent + 1, 1);
  let body: string;
  let fraction: number;
  if (exponent >= 0) {
    body = digits.padEnd(whole, "0");
    fraction = body.length - whole;
    if (fraction > 0) body = `${body.slice(0, whole)}.${body.slice(whole)}`;
  } else {
    body = `0.${"0".repeat(-exponent - 1)}${digits}`;
    fraction = digits.length - exponent - 1;
  }
  const want = cutoff === "total" ? o.minDigits - whole : Math.max(o.minDigits, 0);
  [body, fraction] = applyTrim(body, fraction, o.trim, want);
  let out = sign + body;
  const padRight = o.padRight ?? -1;
  if (padRight >= fraction) out += (o.trim === "-" && fraction === 0 ? " " : "") + " ".repeat(padRight - fraction);
  const padLeft = o.padLeft ?? -1;
  return padLeft > whole + sign.length ? " ".repeat(padLeft - whole - sign.length) + out : out;
}

/** numpy's `dragon4_scientific` for a float32 value: `d.ddde±XX`. */
export function formatScientific(x: number, o: FloatFormatOptions): string {
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const max = o.precision < 0 ? -1 : o.precision + 1;
  const min = o.minDigits < 0 ? -1 : o.minDigits + 1;
  const { digits, exponent } = digitsOf(Math.abs(x), max, min, "total");
  const [mantissa] = applyTrim(
    digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits,
    digits.length - 1,
    o.trim,
    Math.max(0, o.minDigits),
  );
  const padLeft = o.padLeft ?? -1;
  const pad = padLeft > 1 + sign.length ? " ".repeat(padLeft - 1 - sign.length) : "";
  const expDigits = o.expDigits === undefined || o.expDigits < 0 ? 2 : Math.min(o.expDigits, 5);
  const expText = String(Math.abs(exponent)).padStart(expDigits, "0");
  return `${pad}${sign}${mantissa}e${exponent >= 0 ? "+" : "-"}${expText}`;
}
