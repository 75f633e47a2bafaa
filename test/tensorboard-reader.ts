// A minimal event-file reader for tests: checks each record's masked CRC32C and returns the scalar and histogram
// tags with their steps. TensorBoard's own reader checks the same files in the e2e tests.
import * as fs from "node:fs";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { maskedCrc32c } from "../lib/tensorboard/record";

export interface ReadValue {
  step: number;
  tag: string;
  simpleValue?: number;
  histogram?: boolean;
}

/** Every summary value of an event file, in order; throws on a record whose checksum is wrong. */
export function readEventFile(file: string): ReadValue[] {
  const bytes = fs.readFileSync(file);
  const out: ReadValue[] = [];
  for (let at = 0; at + 12 <= bytes.length; ) {
    const length = Number(bytes.readBigUInt64LE(at));
    if (bytes.readUInt32LE(at + 8) !== maskedCrc32c(bytes.subarray(at, at + 8))) throw new Error(`bad length crc at ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (bytes.readUInt32LE(at + 12 + length) !== maskedCrc32c(data)) throw new Error(`bad data crc at ${at}`);
    out.push(...eventValues(data));
    at += 16 + length;
  }
  return out;
}

function eventValues(data: Uint8Array): ReadValue[] {
  const r = new BinaryReader(data);
  let step = 0;
  const values: ReadValue[] = [];
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 2) step = Number(r.int64());
    else if (field === 5) {
      const summary = new BinaryReader(r.bytes());
      while (summary.pos < summary.len) {
        summary.tag();
        values.push(summaryValue(summary.bytes()));
      }
    } else r.skip(wire);
  }
  return values.map((v) => ({ ...v, step }));
}

function summaryValue(data: Uint8Array): ReadValue {
  const r = new BinaryReader(data);
  const value: ReadValue = { step: 0, tag: "" };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) value.tag = r.string();
    else if (field === 2 && wire === WireType.Bit32) value.simpleValue = r.float();
    else if (field === 5) {
      r.skip(wire);
      value.histogram = true;
    } else r.skip(wire);
  }
  return value;
}
