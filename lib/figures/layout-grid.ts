import { hiddenAxis, type Layout } from "./figure";

/** A rectangle in figure pixels, origin at the top-left corner like a page. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Converts a pixel box to plotly's paper fractions. The figures here set all layout margins to 0 so that
 * paper coordinates span the whole image and subplot positions can be worked out in pixels, like
 * matplotlib's `subplots_adjust`.
 */
export function toDomain(box: PixelBox, figWidth: number, figHeight: number): { x: [number, number]; y: [number, number] } {
  const clamp = (v: number): number => Math.min(1, Math.max(0, v));
  return {
    x: [clamp(box.left / figWidth), clamp((box.left + box.width) / figWidth)],
    y: [clamp(1 - (box.top + box.height) / figHeight), clamp(1 - box.top / figHeight)],
  };
}

/**
 * Hidden axes with one unit per figure pixel and the origin at the top-left corner, y pointing down like a page
 * (and like image rows), over the whole width x height figure (its margins are 0): things are placed by pixel
 * boxes directly. The images of a multi-image figure (grid, predictions, misclassified) all share this one pair:
 * plotly lays out and draws every subplot on its own, and 40 of them made the tutorial's grid the slowest
 * figure to render.
 */
export function pixelAxes(width: number, height: number): { xaxis: Record<string, unknown>; yaxis: Record<string, unknown> } {
  return {
    xaxis: hiddenAxis({ range: [0, width], autorange: false, domain: [0, 1] }),
    yaxis: hiddenAxis({ range: [height, 0], autorange: false, domain: [0, 1] }),
  };
}

/** Zero margins so paper coordinates are figure fractions (see toDomain). */
export const NO_MARGIN: Partial<Layout>["margin"] = { l: 0, r: 0, t: 0, b: 0, pad: 0 };

/**
 * Square image boxes on an nRows x nCols grid, each with `titlePx` of room above it for its title:
 * the layout `plt.subplot(nRows, nCols, i)` + `imshow` + `title` gives, without axes.
 * Boxes are square so that equal-aspect images fill them exactly; returned in row-major order.
 */
export function squareCells(nRows: number, nCols: number, area: PixelBox, opts: { titlePx: number; gapPx: number }): PixelBox[] {
  const cellW = area.width / nCols;
  const cellH = area.height / nRows;
  const side = Math.max(1, Math.min(cellW - opts.gapPx, cellH - opts.titlePx - opts.gapPx));
  const boxes: PixelBox[] = [];
  for (let r = 0; r < nRows; r++) {
    for (let c = 0; c < nCols; c++) {
      const left = area.left + c * cellW + (cellW - side) / 2;
      // Title sits on top of the image; the title+image block is centred vertically in its cell.
      const top = area.top + r * cellH + (cellH - side - opts.titlePx) / 2 + opts.titlePx;
      boxes.push({ left, top, width: side, height: side });
    }
  }
  return boxes;
}
