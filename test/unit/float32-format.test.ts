import { describe, expect, it } from "vitest";
import { NDArray } from "../../lib/format/ndarray";

// Expected texts from numpy's Dragon4 (through the port this module replaced): the cases where the shortest
// toExponential that reads back is not what numpy prints.
const scalar = (x: number) => new NDArray(Float32Array.of(x), []).str();

describe("float32 digits match numpy's Dragon4", () => {
  it.each([
    [2 ** 87, "1.5474251e+26"], // power of two: the nearest 8 digits fall outside the narrow side below
    [440885.625, "440885.62"], // exact tie between two 8-digit candidates: half to even
    [-0.000244140625, "-0.00024414062"],
    [33554432, "33554432.0"],
  ])("str(float32(%d)) is %s", (x, text) => {
    expect(scalar(x)).toBe(text);
  });

  it("prints every whole digit of 2**25 in a column, not the shortest digits padded with zeros", () => {
    expect(new NDArray(Float32Array.of(33554432, 1.5)).repr({ suppress: true })).toBe("array([33554432. ,        1.5], dtype=float32)");
  });

  it("rounds a cut-off tie half to even: 1/512 to 8 decimals is 0.00195312", () => {
    expect(new NDArray(Float32Array.of(1 / 512, 0.5)).repr({ suppress: true })).toMatch(/0\.00195312,/);
  });
});
