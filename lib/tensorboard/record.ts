// TFRecord framing, the container of TensorBoard's event files:
//   u64 LE length | u32 LE masked_crc32c(length bytes) | data | u32 LE masked_crc32c(data)
// The checksum is CRC32C (Castagnoli), not zlib's CRC32; TensorBoard drops a record whose checksum fails.
import { crc32c } from "@node-rs/crc32";

const MASK_DELTA = 0xa282ead8;

/** CRC32C of `bytes` as an unsigned 32-bit number: crc32c("123456789") = 0xE3069283. */
export function crc32cOf(bytes: Uint8Array): number {
  return crc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) >>> 0;
}

/**
 * TFRecord's masked CRC, `((c >>> 15 | c << 17) + 0xA282EAD8) mod 2^32`: TensorFlow masks it because a CRC
 * computed over data that itself holds CRCs is weak.
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32cOf(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** One framed record around `data` (a serialized Event), ready to append to an event file. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.byteLength + 4);
  out.writeBigUInt64LE(BigInt(data.byteLength), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.byteLength);
  return out;
}
