import { describe, expect, it } from "vitest";
import { bestRow, liveTrialsTable, trialsTableHtml } from "../../lib/search/trials-table";

const objective = { name: "val_accuracy", direction: "max" } as const;

describe("trials table", () => {
  it("picks the best finished trial by the objective's direction", () => {
    const rows = [{ val_accuracy: 0.8 }, { val_accuracy: undefined }, { val_accuracy: 0.85 }, { val_accuracy: Number.NaN }];
    expect(bestRow(rows, objective)).toBe(2);
    expect(bestRow(rows, { name: "val_accuracy", direction: "min" })).toBe(0);
    expect(bestRow([{ lr: 1 }], objective)).toBe(-1);
  });

  it("marks the best row and says which it is and how many are done", () => {
    const html = trialsTableHtml(
      [
        { learningRate: 0.01, val_accuracy: 0.8412 },
        { learningRate: 0.1, val_accuracy: 0.8812 },
      ],
      objective,
      8,
    );
    expect(html).toMatch(/best so far: trial 2, val_accuracy 0\.8812 \(2 of 8 trials done\)/);
    expect(html).toMatch(/<tr style="font-weight:bold[^"]*"><td>2 ★<\/td><td>0\.1000<\/td><td>0\.8812<\/td><\/tr>/);
    expect(html).toMatch(/<th>val_accuracy ↑<\/th>/);
  });

  it("escapes names and leaves a running trial's result blank", () => {
    const html = trialsTableHtml([{ name: "<run>", val_accuracy: undefined }], objective);
    expect(html).toContain("&lt;run&gt;");
    expect(html).toMatch(/no finished trial yet \(0 of 1 trials done\)/);
    expect(html).toContain("<td></td>");
  });

  it("redraws one display in place as trials finish", () => {
    const calls: string[] = [];
    let displays = 0;
    const table = liveTrialsTable(objective, {
      newDisplay: () => {
        displays++;
        return { html: (s) => calls.push(s) };
      },
    });
    table.update([{ val_accuracy: 0.8 }]);
    table.update([{ val_accuracy: 0.8 }, { val_accuracy: 0.9 }]);
    expect(displays).toBe(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatch(/best so far: trial 2/);
  });

  it("draws nothing outside a kernel", () => {
    expect(liveTrialsTable(objective).shown).toBe(false);
  });
});
