import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { formatShape, layerTable, modelSummary, SummaryError } from "../../lib/model/summary";

// Expected texts follow Keras 2.11's print_summary (keras/utils/layer_utils.py): every row is
// padded to 65 columns, so rows end in spaces, and a line of 65 spaces follows each layer.
// The tutorial's text is the one Géron's book (3rd ed.) prints for the same model.

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function tutorialModel(): tf.Sequential {
  return tf.sequential({
    name: "sequential",
    layers: [
      tf.layers.flatten({ inputShape: [28, 28], name: "flatten" }),
      tf.layers.dense({ units: 300, activation: "relu", name: "dense" }),
      tf.layers.dense({ units: 100, activation: "relu", name: "dense_1" }),
      tf.layers.dense({ units: 10, activation: "softmax", name: "dense_2" }),
    ],
  });
}

const BLANK = " ".repeat(65);

const TUTORIAL_SUMMARY = [
  'Model: "sequential"',
  "_________________________________________________________________",
  " Layer (type)                Output Shape              Param #   ",
  "=================================================================",
  " flatten (Flatten)           (None, 784)               0         ",
  BLANK,
  " dense (Dense)               (None, 300)               235500    ",
  BLANK,
  " dense_1 (Dense)             (None, 100)               30100     ",
  BLANK,
  " dense_2 (Dense)             (None, 10)                1010      ",
  BLANK,
  "=================================================================",
  "Total params: 266,610",
  "Trainable params: 266,610",
  "Non-trainable params: 0",
  "_________________________________________________________________",
].join("\n");

describe("modelSummary", () => {
  it("prints the tutorial's 784-300-100-10 model exactly as Keras 2 does", () => {
    const model = tutorialModel();
    expect(modelSummary(model)).toBe(TUTORIAL_SUMMARY);
    model.dispose();
  });

  it("uses the name override in the header (tfjs would say sequential_N)", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], name: "dense" })] });
    const text = modelSummary(model, { name: "sequential" });
    expect(text.split("\n")[0]).toBe('Model: "sequential"');
    expect(modelSummary(model).split("\n")[0]).toBe(`Model: "${model.name}"`);
    model.dispose();
  });

  it("prints a tiny [8]-unit model with 6,370 params", () => {
    const model = tf.sequential({
      name: "sequential",
      layers: [
        tf.layers.flatten({ inputShape: [28, 28], name: "flatten" }),
        tf.layers.dense({ units: 8, activation: "relu", name: "dense" }),
        tf.layers.dense({ units: 10, activation: "softmax", name: "dense_1" }),
      ],
    });
    expect(modelSummary(model)).toBe(
      [
        'Model: "sequential"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " flatten (Flatten)           (None, 784)               0         ",
        BLANK,
        " dense (Dense)               (None, 8)                 6280      ",
        BLANK,
        " dense_1 (Dense)             (None, 10)                90        ",
        BLANK,
        "=================================================================",
        "Total params: 6,370",
        "Trainable params: 6,370",
        "Non-trainable params: 0",
        "_________________________________________________________________",
      ].join("\n"),
    );
    model.dispose();
  });

  it("wraps a 48-character layer column onto a second line, as Keras's print_row does", () => {
    const model = tf.sequential({
      name: "sequential",
      layers: [tf.layers.dense({ units: 3, inputShape: [4], name: "a_very_long_layer_name_for_wrapping_test" })],
    });
    // Keras cuts the first column at 27 characters plus a leading space and two of gutter, which
    // overruns its 29-character column by one, so the shape starts one column late on that line.
    expect(modelSummary(model)).toBe(
      [
        'Model: "sequential"',
        "_________________________________________________________________",
        " Layer (type)                Output Shape              Param #   ",
        "=================================================================",
        " a_very_long_layer_name_for_  (None, 3)                15        ",
        " wrapping_test (Dense)                                           ",
        BLANK,
        "=================================================================",
        "Total params: 15",
        "Trainable params: 15",
        "Non-trainable params: 0",
        "_________________________________________________________________",
      ].join("\n"),
    );
    model.dispose();
  });

  it("counts frozen layers as non-trainable", () => {
    const model = tutorialModel();
    model.layers[1]!.trainable = false;
    const lines = modelSummary(model).split("\n");
    expect(lines.slice(-4, -1)).toEqual(["Total params: 266,610", "Trainable params: 31,110", "Non-trainable params: 235,500"]);
    model.dispose();
  });

  it("adds an 11-character Trainable column with showTrainable", () => {
    const model = tutorialModel();
    model.layers[1]!.trainable = false;
    const lines = modelSummary(model, { showTrainable: true }).split("\n");
    expect(lines[1]).toBe("_".repeat(76));
    expect(lines[2]).toBe(" Layer (type)                Output Shape              Param #   Trainable  ");
    expect(lines[6]).toBe(" dense (Dense)               (None, 300)               235500    N          ");
    expect(lines[8]).toBe(" dense_1 (Dense)             (None, 100)               30100     Y          ");
    model.dispose();
  });

  it("passes every line to printFn, like Keras's print_fn", () => {
    const model = tutorialModel();
    const seen: string[] = [];
    const text = modelSummary(model, { name: "sequential", printFn: (l) => seen.push(l) });
    expect(seen.join("\n")).toBe(text);
    expect(seen).toHaveLength(17);
    model.dispose();
  });

  it("prints a branching functional model with Keras's Connected to column", () => {
    const input = tf.input({ shape: [4], name: "input_1" });
    const a = tf.layers.dense({ units: 2, name: "dense" }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 3, name: "dense_1" }).apply(input) as tf.SymbolicTensor;
    const c = tf.layers.concatenate({ name: "concatenate" }).apply([a, b]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: c, name: "model" });
    const lines = modelSummary(model).split("\n");
    // positions [.33, .55, .67, 1] of 98 -> columns end at 32, 53, 65, 98
    expect(lines[2]).toBe(" Layer (type)                   Output Shape         Param #     Connected to                     ");
    expect(lines[4]).toBe(" input_1 (InputLayer)           [(None, 4)]          0           []                               ");
    expect(lines).toContain(" concatenate (Concatenate)      (None, 5)            0           ['dense[0][0]',                  ");
    expect(lines).toContain("                                                                  'dense_1[0][0]']                ");
    expect(lines.at(-4)).toBe("Total params: 25");
    model.dispose();
  });

  it("rejects columns too narrow to print anything", () => {
    const model = tutorialModel();
    expect(() => modelSummary(model, { positions: [2, 40, 65] })).toThrow(SummaryError);
    expect(() => modelSummary(model, { positions: [2, 40, 65] })).toThrow(/positions \[2, 40, 65\] leave no room/);
    model.dispose();
  });
});

describe("layerTable", () => {
  it("lists name, type, output shape, params and trainable for the tutorial model", () => {
    const model = tutorialModel();
    expect(layerTable(model)).toEqual([
      { name: "flatten", type: "Flatten", outputShape: [null, 784], outputShapes: [[null, 784]], params: 0, trainable: true },
      { name: "dense", type: "Dense", outputShape: [null, 300], outputShapes: [[null, 300]], params: 235500, trainable: true },
      { name: "dense_1", type: "Dense", outputShape: [null, 100], outputShapes: [[null, 100]], params: 30100, trainable: true },
      { name: "dense_2", type: "Dense", outputShape: [null, 10], outputShapes: [[null, 10]], params: 1010, trainable: true },
    ]);
    model.dispose();
  });
});

describe("formatShape", () => {
  it.each([
    [[null, 784], "(None, 784)"],
    [[null], "(None,)"],
    [[null, 28, 28], "(None, 28, 28)"],
    [[], "()"],
    [
      [
        [null, 2],
        [null, 3],
      ],
      "[(None, 2), (None, 3)]",
    ],
  ] as const)("formats %j as %s", (shape, text) => {
    expect(formatShape(shape as unknown as (number | null)[])).toBe(text);
  });
});
