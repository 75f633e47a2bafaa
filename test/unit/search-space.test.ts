import { gridPoints } from "../../lib/search/samplers/grid";
import { describe, expect, it } from "vitest";
import { parseSearchSpace, SearchSpaceError, spaceHash, toOverrides } from "../../lib/search/core/space";

// The config's field names, passed in as the CLI will (plus two a sibling change adds), so the space module
// stays independent of the config.
const FIELDS = ["epochs", "batchSize", "hiddenUnits", "learningRate", "optimizer", "batchNorm", "seed"] as const;
const DEFAULTS = { nHidden: 2, nNeurons: 100 };

const EXAMPLE = {
  learningRate: { type: "float", min: 0.0001, max: 0.03, log: true },
  optimizer: { type: "choice", values: ["sgd", "adam"] },
  batchNorm: { type: "bool" },
  nHidden: { type: "int", min: 1, max: 4 },
  nNeurons: { type: "int", min: 16, max: 256, log: true },
};

const parse = (json: unknown) => parseSearchSpace(json, FIELDS, DEFAULTS);
const refusal = (json: unknown): string => {
  try {
    parse(json);
  } catch (e) {
    expect(e).toBeInstanceOf(SearchSpaceError);
    return (e as Error).message;
  }
  throw new Error("expected the space to be refused");
};

describe("parseSearchSpace", () => {
  it("accepts the README's example space, keys sorted", () => {
    const space = parse(EXAMPLE);
    expect(Object.keys(space)).toEqual(["batchNorm", "learningRate", "nHidden", "nNeurons", "optimizer"]);
    expect(space.learningRate).toEqual({ type: "float", min: 0.0001, max: 0.03, log: true });
    expect(space.nNeurons).toEqual({ type: "int", min: 16, max: 256, log: true });
  });

  it("accepts choices of any JSON, such as whole layer lists, and fixed values", () => {
    const space = parse({ hiddenUnits: { type: "choice", values: [[300, 100], [200]] }, epochs: { type: "fixed", value: 5 } });
    expect(space.hiddenUnits).toEqual({ type: "choice", values: [[300, 100], [200]] });
    expect(space.epochs).toEqual({ type: "fixed", value: 5 });
  });

  it("refuses an unknown key in one sentence naming it and listing the allowed keys", () => {
    expect(refusal({ ...EXAMPLE, dropout: { type: "bool" } })).toMatch(
      /^unknown search parameter "dropout"; allowed: epochs, batchSize, hiddenUnits, learningRate, optimizer, batchNorm, seed, nHidden, nNeurons$/,
    );
  });

  it("offers nHidden/nNeurons only when the config has hiddenUnits", () => {
    expect(() => parseSearchSpace({ nHidden: { type: "int", min: 1, max: 2 } }, ["epochs"], DEFAULTS)).toThrow(
      /^unknown search parameter "nHidden"; allowed: epochs$/,
    );
  });

  it.each([
    [{ learningRate: { type: "float", min: 0.1, max: 0.01 } }, /^learningRate: empty range, min 0\.1 is above max 0\.01$/],
    [{ batchSize: { type: "int", min: 64, max: 32 } }, /^batchSize: empty range, min 64 is above max 32$/],
    [{ learningRate: { type: "float", min: 0, max: 0.1, log: true } }, /^learningRate: a log range needs min > 0, got 0\.\.0\.1$/],
    [{ batchSize: { type: "int", min: -8, max: 64, log: true } }, /^batchSize: a log range needs min > 0, got -8\.\.64$/],
    [{ optimizer: { type: "choice", values: [] } }, /^optimizer: empty choice, "values" is \[\]$/],
    [
      { batchSize: { type: "int", min: 16, max: 256, step: 1, log: true } },
      /^batchSize: with "log": true, "step" is the factor between values and must be at least 2, got 1$/,
    ],
  ])("refuses the empty range %j naming the key and the range", (json, message) => {
    expect(refusal(json)).toMatch(message);
  });

  it.each([
    [
      { optimizer: { type: "enum", values: ["sgd"] } },
      /^optimizer\.type: expected one of "int", "float", "choice", "bool", "fixed", got "enum"$/,
    ],
    [{ batchSize: { type: "int", min: 16.5, max: 64 } }, /^batchSize\.min: expected int, received number, got 16\.5$/],
    [{ batchSize: { type: "int", min: 16 } }, /^batchSize\.max: expected number, received undefined, got nothing$/],
    [{ batchNorm: { type: "bool", values: [true] } }, /^batchNorm: unknown field "values" for a bool; allowed: type, default$/],
    [{ learningRate: 0.01 }, /^learningRate: expected object, received number, got 0\.01$/],
  ])("refuses the malformed entry %j naming key, field and value", (json, message) => {
    expect(refusal(json)).toMatch(message);
  });

  it("lists every malformed entry, one line each", () => {
    const lines = refusal({ batchSize: { type: "int", min: 64, max: 32 }, optimizer: { type: "choice", values: [] } }).split("\n");
    expect(lines).toEqual([expect.stringMatching(/^batchSize: empty range/), expect.stringMatching(/^optimizer: empty choice/)]);
  });

  it("refuses a space that is not an object", () => {
    expect(refusal([{ type: "bool" }])).toMatch(
      /^a search space is a JSON object of parameter name -> \{"type": \.\.\.\}, got \[\{"type":"bool"\}\]$/,
    );
  });

  it("refuses hiddenUnits together with nHidden/nNeurons, since both set hiddenUnits", () => {
    expect(refusal({ hiddenUnits: { type: "choice", values: [[300, 100]] }, nNeurons: { type: "int", min: 8, max: 64 } })).toMatch(
      /^hiddenUnits cannot be searched together with nNeurons, which set it too; keep one or the other$/,
    );
  });

  it.each([
    [{ nHidden: { type: "int", min: -1, max: 3 } }, /^nHidden: must give whole numbers >= 0 \(it sets hiddenUnits\), got min -1$/],
    [{ nNeurons: { type: "int", min: 0, max: 3 } }, /^nNeurons: must give whole numbers >= 1 \(it sets hiddenUnits\), got min 0$/],
    [
      { nNeurons: { type: "choice", values: [64, 12.5] } },
      /^nNeurons: must give whole numbers >= 1 \(it sets hiddenUnits\), got 12\.5 in "values"$/,
    ],
    [
      { nNeurons: { type: "float", min: 8, max: 64 } },
      /^nNeurons: must give whole numbers >= 1 \(it sets hiddenUnits\): use an int, choice or fixed entry, got a float$/,
    ],
  ])("refuses nHidden/nNeurons entries that are not counts: %j", (json, message) => {
    expect(refusal(json)).toMatch(message);
  });

  it("pins nNeurons to the default when only nHidden is searched, and the other way round", () => {
    expect(parse({ nHidden: { type: "int", min: 1, max: 3 } }).nNeurons).toEqual({ type: "fixed", value: 100 });
    expect(parse({ nNeurons: { type: "int", min: 8, max: 64 } }).nHidden).toEqual({ type: "fixed", value: 2 });
  });

  it("refuses a lone nHidden when no default width was passed", () => {
    expect(() => parseSearchSpace({ nHidden: { type: "int", min: 1, max: 3 } }, FIELDS)).toThrow(
      /^nHidden is given without nNeurons and no default nNeurons was passed; add "nNeurons" to the space$/,
    );
  });
});

describe("Keras Tuner's names and the config's values", () => {
  const KT_FIELDS = ["learningRate", "optimizer", "batchNorm", "dropout", "hiddenUnits"];
  /** The config's verdict, as session.ts's configValueCheck gives it, for two fields. */
  const check = (key: string, value: unknown): string | undefined =>
    key === "optimizer" && !["sgd", "adam", "nadam"].includes(value as string)
      ? 'is not a valid optimizer; allowed: "sgd", "adam", "nadam"'
      : key === "learningRate" && !((value as number) > 0)
        ? "is not a valid learningRate (Too small: expected number to be >0)"
        : undefined;
  const kt = (json: unknown) => parseSearchSpace(json, KT_FIELDS, DEFAULTS, check);
  const ktRefusal = (json: unknown): string => {
    try {
      kt(json);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("the space was accepted");
  };

  it("reads min_value, max_value, sampling, step and default as Keras Tuner writes them, and its class names", () => {
    const space = kt({
      learningRate: { type: "Float", min_value: 1e-4, max_value: 0.1, sampling: "log", default: 0.01 },
      nHidden: { type: "int", min_value: 0, max_value: 3, step: 1, sampling: "linear" },
      optimizer: { type: "Choice", values: ["sgd", "adam"], default: "adam" },
      batchNorm: { type: "Boolean", default: false },
    });
    expect(space).toEqual({
      batchNorm: { type: "bool", default: false },
      learningRate: { type: "float", min: 1e-4, max: 0.1, log: true, default: 0.01 },
      nHidden: { type: "int", min: 0, max: 3, step: 1 },
      nNeurons: { type: "fixed", value: 100 },
      optimizer: { type: "choice", values: ["sgd", "adam"], default: "adam" },
    });
  });

  it("accepts nHidden 0 (softmax regression) and lists a float range with a step as a grid", () => {
    expect(toOverrides({ nHidden: 0, nNeurons: 64 })).toEqual({ hiddenUnits: [] });
    expect(gridPoints(kt({ dropout: { type: "float", min_value: 0, max_value: 0.3, step: 0.1 } }))).toEqual(
      [0, 0.1, 0.2, 0.3].map((dropout) => ({ dropout })),
    );
  });

  it.each([
    [
      { optimizer: { type: "choice", values: ["adam", "nadamm"] } },
      /^optimizer: "nadamm" in "values" is not a valid optimizer; allowed: "sgd", "adam", "nadam"$/,
    ],
    [{ learningRate: { type: "float", min_value: 0, max_value: 0.1 } }, /^learningRate: 0 in min is not a valid learningRate \(Too small/],
    [{ optimizer: { type: "choice", values: ["adam"], default: "sgd" } }, /^optimizer: "default" "sgd" is not one of "values" \["adam"\]$/],
    [{ learningRate: { type: "float", min: 0.1, min_value: 0.1, max: 1 } }, /^learningRate: "min_value" and "min" are the same field/],
    [
      { learningRate: { type: "float", min: 0.1, max: 1, sampling: "reverse_log" } },
      /^learningRate\.sampling: expected "linear" or "log", got "reverse_log"$/,
    ],
    [
      { learningRate: { type: "float", min_value: 0.1, max_value: 1, sampling: "log", foo: 1 } },
      /^learningRate: unknown field "foo" for a float; allowed: type, min, max, step, log, default, or Keras Tuner's "min_value", "max_value", "sampling"$/,
    ],
  ])("refuses in one sentence naming the field, the value and what is allowed: %j", (json, message) => {
    expect(ktRefusal(json)).toMatch(message);
  });
});

describe("toOverrides", () => {
  it("turns nHidden copies of nNeurons into hiddenUnits and keeps other fields", () => {
    expect(toOverrides({ nHidden: 3, nNeurons: 64, learningRate: 0.01, optimizer: "adam" })).toEqual({
      learningRate: 0.01,
      optimizer: "adam",
      hiddenUnits: [64, 64, 64],
    });
  });

  it("passes params without layer knobs through, copying lists", () => {
    const params = { hiddenUnits: [300, 100] };
    const overrides = toOverrides(params);
    expect(overrides).toEqual({ hiddenUnits: [300, 100] });
    expect(overrides.hiddenUnits).not.toBe(params.hiddenUnits);
  });

  it("refuses nHidden without nNeurons", () => {
    expect(() => toOverrides({ nHidden: 2 })).toThrow(
      /^nHidden and nNeurons make hiddenUnits together, got nHidden 2 and nNeurons nothing$/,
    );
  });
});

describe("spaceHash", () => {
  it("is a sha256 hex that ignores key order in the file", () => {
    const reversed = Object.fromEntries(Object.entries(EXAMPLE).reverse());
    expect(spaceHash(parse(EXAMPLE))).toMatch(/^[0-9a-f]{64}$/);
    expect(spaceHash(parse(reversed))).toBe(spaceHash(parse(EXAMPLE)));
  });

  it("changes when a range changes", () => {
    const wider = { ...EXAMPLE, nHidden: { type: "int", min: 1, max: 5 } };
    expect(spaceHash(parse(wider))).not.toBe(spaceHash(parse(EXAMPLE)));
  });
});
