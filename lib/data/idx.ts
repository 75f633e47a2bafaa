/**
 * IDX file parsing (the format of the MNIST and Fashion-MNIST files), see
 * http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS"): a big-endian header, then raw bytes.
 *
 *   bytes 0-1  zero
 *   byte  2    element type (0x08 = unsigned byte, the only one Fashion-MNIST uses)
 *   byte  3    number of dimensions
 *   then one big-endian uint32 per dimension, then the elements, row-major.
 *
 * Read as one big-endian uint32, the first four bytes are the "magic number": 2049 for a
 * label file (ubyte, 1 dimension) and 2051 for an image file (ubyte, 3 dimensions).
 */
import { gunzipSync } from "node:zlib";
import { NDArray } from "../format/ndarray";
import { IMAGE_SIZE, NUM_CLASSES } from "./images";
import { UserError } from "../errors/user-error";

/** Magic number of an IDX label file: unsigned bytes, 1 dimension (count). */
export const IDX_LABELS_MAGIC = 2049;
/** Magic number of an IDX image file: unsigned bytes, 3 dimensions (count, rows, cols). */
export const IDX_IMAGES_MAGIC = 2051;
/** IDX element type code for unsigned bytes. */
const IDX_TYPE_UBYTE = 0x08;
/**
 * Upper bound on a decompressed file. The largest Fashion-MNIST file (train images) is
 * 47,040,016 bytes; the cap stops a corrupt or hostile gzip from filling memory.
 */
const MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

/** Thrown for any problem with the dataset: a malformed file, a hash mismatch, a failed download. */
export class DatasetError extends UserError {
  override name = "DatasetError";
}

export interface ParseIdxOptions {
  /** Images are `imageSize` x `imageSize`; default 28. Tests use tiny images. */
  imageSize?: number;
  /** Labels must lie in 0..numClasses-1; default 10. */
  numClasses?: number;
}

const describeKind = (magic: number): string => (magic === IDX_IMAGES_MAGIC ? "images" : magic === IDX_LABELS_MAGIC ? "labels" : "unknown");

/**
 * Reads the header of an IDX buffer and checks it against the expected magic number before
 * trusting any size in it. Returns the dimensions and the byte offset where the data starts.
 */
function readHeader(buf: Uint8Array, source: string, expectedMagic: number): { dims: number[]; offset: number } {
  const expectedKind = describeKind(expectedMagic);
  const expectedDims = expectedMagic & 0xff;
  if (buf.length < 4) {
    throw new DatasetError(
      `${source}: ${buf.length} bytes, too short for an IDX header (expected at least ${4 + 4 * expectedDims}). Truncated file?`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const swapped =
      magic === IDX_LABELS_MAGIC || magic === IDX_IMAGES_MAGIC
        ? ` This is ${magic === IDX_IMAGES_MAGIC ? "an image" : "a label"} file. Labels and images swapped?`
        : "";
    let detail = "";
    if (!swapped) {
      if (buf[0] !== 0 || buf[1] !== 0) detail = " Not an IDX file (first two bytes must be zero); still gzipped?";
      else if (buf[2] !== IDX_TYPE_UBYTE)
        detail = ` Element type 0x${(buf[2] ?? 0).toString(16).padStart(2, "0")}, expected 0x08 (unsigned byte).`;
      else detail = ` ${buf[3]} dimensions, expected ${expectedDims}.`;
    }
    throw new DatasetError(`${source}: magic ${magic}, expected ${expectedMagic} (${expectedKind}).${swapped || detail}`);
  }
  const offset = 4 + 4 * expectedDims;
  if (buf.length < offset) {
    throw new DatasetError(`${source}: ${buf.length} bytes, too short for the ${offset}-byte IDX ${expectedKind} header. Truncated file?`);
  }
  const dims: number[] = [];
  for (let i = 0; i < expectedDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, offset };
}

/**
 * Compares the size the header declares with the bytes present. Runs before anything is
 * allocated, so an absurd header (e.g. 4 billion images) fails fast instead of exhausting memory.
 */
function checkLength(buf: Uint8Array, source: string, dims: number[], offset: number, unit: string): void {
  // Products of uint32s can exceed 2^53 and lose precision, but they then still exceed any real length.
  const declared = dims.reduce((a, b) => a * b, 1);
  const actual = buf.length - offset;
  if (declared === actual) return;
  const what = `header declares ${dims.join(" x ")} ${unit} = ${declared} data bytes, file has ${actual}`;
  throw new DatasetError(
    declared > actual
      ? `${source}: ${what}. Truncated file or corrupt header? Delete it to re-download.`
      : `${source}: ${what} (${actual - declared} extra bytes at the end). Corrupt file or wrong header? Delete it to re-download.`,
  );
}

/**
 * Parses an IDX image file (already decompressed).
 * @param buf the decompressed bytes of e.g. train-images-idx3-ubyte
 * @param source file name used in error messages
 * @returns pixels as uint8 0..255, shape [count, rows, cols]; `data` is a view into `buf`
 * @throws DatasetError naming the file, the bad value and what was expected
 */
export function parseIdxImages(buf: Uint8Array, source: string, options: ParseIdxOptions = {}): NDArray<Uint8Array> {
  const imageSize = options.imageSize ?? IMAGE_SIZE;
  const { dims, offset } = readHeader(buf, source, IDX_IMAGES_MAGIC);
  const [count = 0, rows = 0, cols = 0] = dims;
  if (rows !== imageSize || cols !== imageSize) {
    throw new DatasetError(`${source}: images are ${rows} x ${cols}, expected ${imageSize} x ${imageSize}. Not a Fashion-MNIST file?`);
  }
  checkLength(buf, source, dims, offset, "pixels");
  return new NDArray(buf.subarray(offset), [count, rows, cols]);
}

/**
 * Parses an IDX label file (already decompressed).
 * @param buf the decompressed bytes of e.g. train-labels-idx1-ubyte
 * @param source file name used in error messages
 * @returns class indices as uint8 0..numClasses-1, shape [count]; `data` is a view into `buf`
 * @throws DatasetError naming the file, the bad value and what was expected
 */
export function parseIdxLabels(buf: Uint8Array, source: string, options: ParseIdxOptions = {}): NDArray<Uint8Array> {
  const numClasses = options.numClasses ?? NUM_CLASSES;
  const { dims, offset } = readHeader(buf, source, IDX_LABELS_MAGIC);
  checkLength(buf, source, dims, offset, "labels");
  const data = buf.subarray(offset);
  for (const [i, label] of data.entries()) {
    if (label >= numClasses) {
      throw new DatasetError(`${source}: label ${label} at index ${i}, expected 0..${numClasses - 1}. Corrupt file?`);
    }
  }
  return new NDArray(data, [data.length]);
}

/**
 * Decompresses a .gz file's bytes with Node's zlib, turning zlib's terse errors into ones that
 * say what is wrong with the file.
 * @param source file name used in error messages
 * @param maxBytes refuse to decompress more than this many bytes
 * @throws DatasetError for data that is not gzip, truncated, corrupt or too large
 */
export function gunzip(buf: Uint8Array, source: string, maxBytes: number = MAX_DECOMPRESSED_BYTES): Uint8Array {
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) {
    const start = Array.from(buf.subarray(0, 2), (b) => b.toString(16).padStart(2, "0")).join(" ") || "nothing";
    throw new DatasetError(
      `${source}: not a gzip file (starts with ${start}, expected 1f 8b). An error page saved instead of the data, or an uncompressed file renamed to .gz?`,
    );
  }
  try {
    const out = gunzipSync(buf, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "Z_BUF_ERROR") {
      throw new DatasetError(`${source}: gzip data is truncated after ${buf.length} bytes (${e.message}). Incomplete download?`);
    }
    if (e.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
      throw new DatasetError(`${source}: decompresses to more than ${maxBytes} bytes, expected an IDX file well below that. Corrupt file?`);
    }
    throw new DatasetError(`${source}: corrupt gzip data (zlib: ${e.message}).`);
  }
}
