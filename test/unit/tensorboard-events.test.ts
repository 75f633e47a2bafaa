// Byte-exact checks of the event-file writer. The expected bytes were produced once by TensorBoard 2.21's own
// protobuf classes and RecordWriter (tensorboard.compat.proto, tensorboard.summary.writer.record_writer).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fileVersionEvent, summaryEvent } from "../../lib/tensorboard/event";
import { sessionEndValue, sessionStartValue } from "../../lib/tensorboard/hparams";
import { histogramOf } from "../../lib/tensorboard/histogram";
import { crc32cOf, frameRecord, maskedCrc32c } from "../../lib/tensorboard/record";
import { EventFileWriter } from "../../lib/tensorboard/writer";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("record framing", () => {
  it("crc32c of the check string 123456789 is 0xE3069283 (Castagnoli, not zlib's 0xCBF43926)", () => {
    expect(crc32cOf(Buffer.from("123456789"))).toBe(0xe3069283);
  });

  it("masks the checksum as TFRecord does: rotate right by 15, add 0xA282EAD8", () => {
    const c = 0xe3069283;
    expect(maskedCrc32c(Buffer.from("123456789"))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });

  it("frames one scalar Event{wall_time 1.5, step 3, epoch_loss 0.25} exactly as TensorBoard's RecordWriter", () => {
    const record = frameRecord(summaryEvent(1.5, 3, [{ tag: "epoch_loss", simpleValue: 0.25 }]));
    expect(hex(record)).toBe("200000000000000029eda95009000000000000f83f10032a130a110a0a65706f63685f6c6f7373150000803ef419eac0");
  });

  it("frames the file version Event{wall_time 1.5, file_version brain.Event:2}", () => {
    expect(hex(frameRecord(fileVersionEvent(1.5)))).toBe(
      "1800000000000000a37f4b2209000000000000f83f1a0d627261696e2e4576656e743a322a28646c",
    );
  });
});

describe("summary values", () => {
  it("encodes a HistogramProto value as TensorBoard's classes do", () => {
    const histo = { min: -1, max: 2, num: 3, sum: 3, sumSquares: 5, bucketLimit: [1, 2], bucket: [1, 2] };
    expect(hex(summaryEvent(1.5, 2, [{ tag: "w/histogram", histo }]))).toBe(
      "09000000000000f83f10022a620a600a0b772f686973746f6772616d2a5109000000000000f0bf1100000000000000401900000000000008402100000000000008402900000000000014403210000000000000f03f00000000000000403a10000000000000f03f0000000000000040",
    );
  });

  it("encodes an HParams session start {optimizer: adam} and a successful session end", () => {
    expect(hex(summaryEvent(1.5, 0, [sessionStartValue({ optimizer: "adam" }, 2)]))).toBe(
      "09000000000000f83f2a570a550a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f42060801120212004a2d0a2b0a0768706172616d7312201a1e0a130a096f7074696d697a657212061a046164616d290000000000000040",
    );
    expect(hex(summaryEvent(1.5, 0, [sessionEndValue("success", 3)]))).toBe(
      "09000000000000f83f2a420a400a1a5f68706172616d735f2f73657373696f6e5f656e645f696e666f42060801120212004a1a0a180a0768706172616d73120d220b0801110000000000000840",
    );
  });

  it("histogramOf puts 0..9 in 3 equal buckets with the max in the last", () => {
    const h = histogramOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3);
    expect(h).toMatchObject({ min: 0, max: 9, num: 10, sum: 45, sumSquares: 285, bucketLimit: [3, 6, 9], bucket: [3, 3, 4] });
  });
});

describe("EventFileWriter", () => {
  it("writes the version record then one record per summary, named events.out.tfevents.<secs>.<host>...", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tb-"));
    const writer = new EventFileWriter(path.join(dir, "train"), () => 1.5);
    writer.scalar("epoch_loss", 0.25, 3);
    writer.close();
    expect(path.basename(writer.file)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.1\\.${os.hostname()}\\.`));
    const expected = Buffer.concat([
      frameRecord(fileVersionEvent(1.5)),
      frameRecord(summaryEvent(1.5, 3, [{ tag: "epoch_loss", simpleValue: 0.25 }])),
    ]);
    expect(hex(fs.readFileSync(writer.file))).toBe(hex(expected));
  });

  it("refuses to write after close, naming the file", () => {
    const writer = new EventFileWriter(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tb-")));
    writer.close();
    expect(() => writer.scalar("epoch_loss", 1, 0)).toThrow(/tfevents.*closed; open a new EventFileWriter/);
  });
});
