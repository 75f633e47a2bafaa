import * as fs from "node:fs";
import { PNG } from "pngjs";
import { IMAGE_SHAPE } from "./images";
import { UserError } from "../errors/user-error";

export class ImageInputError extends UserError {
  override name = "ImageInputError";
}

export interface LoadedImage {
  /** 28x28 intensities in 0..1, Fashion-MNIST's convention: the garment bright on a dark background. */
  pixels: Float32Array;
  /** What was done to the file to get there, said to the user ("converted RGB to grayscale", "inverted"). */
  conversions: string[];
}

/** Formats users try instead of PNG, by their first bytes (a renamed .jpg included). */
const OTHER_FORMATS: [string, number[]][] = [
  ["a JPEG image", [0xff, 0xd8, 0xff]],
  ["a GIF image", [0x47, 0x49, 0x46, 0x38]],
  ["a TIFF image", [0x49, 0x49, 0x2a, 0x00]],
  ["a TIFF image", [0x4d, 0x4d, 0x00, 0x2a]],
  ["a BMP image", [0x42, 0x4d]],
  ["a WebP image", [0x52, 0x49, 0x46, 0x46]],
];
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Why `bytes` cannot be a PNG at all (empty, another image format, no PNG signature), or undefined. */
function notPngReason(bytes: Buffer, file: string): string | undefined {
  const startsWith = (sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (bytes.length === 0) return "the file is empty; expected a 28x28 grayscale PNG";
  if (startsWith(PNG_SIGNATURE)) return undefined;
  const other = OTHER_FORMATS.find(([, sig]) => startsWith(sig));
  if (other) return `${other[0]}, not a PNG; convert it first (e.g. convert ${file} -colorspace Gray -resize 28x28! out.png)`;
  return "not a PNG (it does not start with the PNG signature); expected a 28x28 grayscale PNG";
}

/**
 * Reads a 28x28 PNG for prediction. Colour is converted to grayscale (ITU-R 601 luma); a light
 * background (a drawing, a screenshot) is inverted, since Fashion-MNIST images are light garments on
 * black. Other sizes are refused rather than resized, because a resize would silently change what the
 * model sees.
 */
export function loadImagePng(file: string): LoadedImage {
  let png: PNG;
  let bytes: Buffer | undefined;
  try {
    bytes = fs.readFileSync(file);
    const notPng = notPngReason(bytes, file);
    if (notPng) throw new ImageInputError(`${file}: ${notPng}`);
    png = PNG.sync.read(bytes);
  } catch (err) {
    if (err instanceof ImageInputError) throw err;
    const reason =
      (err as NodeJS.ErrnoException).code === "ENOENT"
        ? "no such file"
        : // pngjs's stream errors for a file that ends early ("read requests waitng on finished stream") say nothing to a user.
          /finished stream|unexpected end|Unexpected end/i.test((err as Error).message)
          ? `the file ends early (${bytes?.length ?? 0} bytes): cut short by a copy or a download?`
          : (err as Error).message;
    throw new ImageInputError(`${file}: cannot read as PNG (${reason}); expected a 28x28 grayscale PNG`);
  }
  const [h, w] = IMAGE_SHAPE;
  if (png.width !== w || png.height !== h) {
    throw new ImageInputError(
      `${file}: ${png.width}x${png.height} pixels, expected ${w}x${h} like Fashion-MNIST; resize it first (e.g. convert in.png -resize 28x28! out.png)`,
    );
  }
  const conversions: string[] = [];
  const pixels = new Float32Array(w * h);
  let colour = false;
  let transparent = false;
  for (let i = 0; i < w * h; i++) {
    const [r, g, b, a] = [png.data[4 * i]!, png.data[4 * i + 1]!, png.data[4 * i + 2]!, png.data[4 * i + 3]!];
    if (r !== g || g !== b) colour = true;
    if (a !== 255) transparent = true;
    // Transparent pixels count as background (white before the inversion test).
    const luma = (0.299 * r + 0.587 * g + 0.114 * b) * (a / 255) + 255 * (1 - a / 255);
    pixels[i] = luma / 255;
  }
  if (colour) conversions.push("converted colour to grayscale");
  if (transparent) conversions.push("flattened transparency onto white");
  const border = borderMean(pixels, w, h);
  if (border > 0.5) {
    for (let i = 0; i < pixels.length; i++) pixels[i] = 1 - pixels[i]!;
    conversions.push(`inverted (light background, border mean ${border.toFixed(2)}): Fashion-MNIST garments are light on black`);
  }
  return { pixels, conversions };
}

function borderMean(p: Float32Array, w: number, h: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y === 0 || x === 0 || y === h - 1 || x === w - 1) {
        sum += p[y * w + x]!;
        n++;
      }
    }
  }
  return sum / n;
}
