import { describe, expect, it } from "vitest";
import { gridPoint, gridPoints, gridSize, paramValues } from "../../lib/search/samplers/grid";
import { parseSearchSpace, SearchSpaceError } from "../../lib/search/core/space";

const FIELDS = ["hiddenUnits", "learningRate", "optimizer", "batchNorm", "batchSize", "epochs"];
const space = (json: object) => parseSearchSpace(json, FIELDS, { nHidden: 2, nNeurons: 100 });

describe("gridPoints", () => {
  const SPACE = space({
    optimizer: { type: "choice", values: ["sgd", "adam"] },
    batchNorm: { type: "bool" },
    nHidden: { type: "int", min: 1, max: 3 },
    nNeurons: { type: "fixed", value: 64 },
  });

  it("enumerates the cartesian product: 2 x 2 x 3 x 1 = 12 points, all different", () => {
    const points = gridPoints(SPACE);
    expect(gridSize(SPACE)).toBe(12);
    expect(points).toHaveLength(12);
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(12);
  });

  it("goes in sorted key order with the last key varying fastest", () => {
    const points = gridPoints(SPACE);
    expect(points.slice(0, 3)).toEqual([
      { batchNorm: false, nHidden: 1, nNeurons: 64, optimizer: "sgd" },
      { batchNorm: false, nHidden: 1, nNeurons: 64, optimizer: "adam" },
      { batchNorm: false, nHidden: 2, nNeurons: 64, optimizer: "sgd" },
    ]);
    expect(points[11]).toEqual({ batchNorm: true, nHidden: 3, nNeurons: 64, optimizer: "adam" });
  });

  it("gives each point from its index alone", () => {
    expect(gridPoint(SPACE, 7)).toEqual(gridPoints(SPACE)[7]);
    expect(() => gridPoint(SPACE, 12)).toThrow(/^grid point 12 is outside the grid of 12 points$/);
  });

  it("refuses a float range, saying to list the values or give a step", () => {
    const withFloat = space({ learningRate: { type: "float", min: 0.001, max: 0.1, log: true } });
    expect(() => gridSize(withFloat)).toThrow(SearchSpaceError);
    expect(() => gridPoints(withFloat)).toThrow(
      /^learningRate: a float range \(0\.001\.\.0\.1\) has no grid; list the values instead, e\.g\. \{"type":"choice","values":\[0\.001,0\.1\]\}, or give a "step"$/,
    );
  });
});

describe("paramValues", () => {
  it.each([
    [{ type: "int", min: 1, max: 6, step: 2 }, [1, 3, 5]],
    [{ type: "int", min: 16, max: 256, step: 2, log: true }, [16, 32, 64, 128, 256]],
    [{ type: "int", min: 30, max: 33 }, [30, 31, 32, 33]],
    [{ type: "bool" }, [false, true]],
    [{ type: "choice", values: [[300, 100], [100]] }, [[300, 100], [100]]],
    [{ type: "fixed", value: "adam" }, ["adam"]],
  ] as const)("lists %j as %j", (spec, values) => {
    expect(paramValues("x", spec as never)).toEqual(values);
  });
});
