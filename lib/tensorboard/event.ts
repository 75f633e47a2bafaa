// The few protobuf messages of an event file (tensorboard/compat/proto/{event,summary,tensor}.proto and
// plugins/hparams/plugin_data.proto), written with @bufbuild/protobuf's BinaryWriter: field numbers are
// TensorBoard's, named here once, so no .proto compiler or generated code is needed.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** Event fields. */
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
/** Summary.value and Summary.Value fields. */
const SUMMARY_VALUE = 1;
const VALUE = { tag: 1, simpleValue: 2, histo: 5, tensor: 8, metadata: 9 } as const;
/** The first record of every event file says which format follows. */
const FILE_VERSION = "brain.Event:2";

/** Keras/TensorBoard histogram as HistogramProto: `bucketLimit[i]` is the right edge of bucket i. */
export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

/** A summary value: exactly one of simpleValue (a scalar), histo, or tensor (+ metadata, for plugins such as hparams). */
export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: Histogram;
  /** A float tensor of this shape with these values ([] and [0] for hparams' empty tensor). */
  tensor?: { shape: number[]; values: number[] };
  /** SummaryMetadata.plugin_data: which TensorBoard plugin reads the value, with its serialized content. */
  plugin?: { name: string; content: Uint8Array };
}

/** Serialized `Event{wall_time, file_version}`, the first record of a file. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new BinaryWriter()
    .tag(EVENT.wallTime, WireType.Bit64)
    .double(wallTime)
    .tag(EVENT.fileVersion, WireType.LengthDelimited)
    .string(FILE_VERSION)
    .finish();
}

/** Serialized `Event{wall_time, step, summary{value...}}`. */
export function summaryEvent(wallTime: number, step: number, values: SummaryValue[]): Uint8Array {
  const w = new BinaryWriter().tag(EVENT.wallTime, WireType.Bit64).double(wallTime);
  if (step !== 0) w.tag(EVENT.step, WireType.Varint).int64(step);
  w.tag(EVENT.summary, WireType.LengthDelimited).fork();
  for (const value of values) {
    w.tag(SUMMARY_VALUE, WireType.LengthDelimited).fork();
    writeValue(w, value);
    w.join();
  }
  return w.join().finish();
}

function writeValue(w: BinaryWriter, v: SummaryValue): void {
  w.tag(VALUE.tag, WireType.LengthDelimited).string(v.tag);
  if (v.simpleValue !== undefined) w.tag(VALUE.simpleValue, WireType.Bit32).float(v.simpleValue);
  if (v.histo) writeHistogram(w.tag(VALUE.histo, WireType.LengthDelimited).fork(), v.histo).join();
  if (v.tensor) writeFloatTensor(w.tag(VALUE.tensor, WireType.LengthDelimited).fork(), v.tensor.shape, v.tensor.values).join();
  // Fields in number order, as protobuf's own serializers write them (tests compare bytes with TensorBoard's).
  if (v.plugin) {
    // SummaryMetadata{plugin_data{plugin_name 1, content 2}}
    w.tag(VALUE.metadata, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(v.plugin.name).tag(2, WireType.LengthDelimited).bytes(v.plugin.content);
    w.join().join();
  }
}

function writeHistogram(w: BinaryWriter, h: Histogram): BinaryWriter {
  w.tag(1, WireType.Bit64).double(h.min).tag(2, WireType.Bit64).double(h.max).tag(3, WireType.Bit64).double(h.num);
  w.tag(4, WireType.Bit64).double(h.sum).tag(5, WireType.Bit64).double(h.sumSquares);
  // repeated double, packed (proto3's default)
  w.tag(6, WireType.LengthDelimited).fork();
  for (const limit of h.bucketLimit) w.double(limit);
  w.join().tag(7, WireType.LengthDelimited).fork();
  for (const count of h.bucket) w.double(count);
  return w.join();
}

// TensorProto{dtype 1 = DT_FLOAT (1), tensor_shape 2 {dim 2 {size 1}}, float_val 5 (packed)}
function writeFloatTensor(w: BinaryWriter, shape: number[], values: number[]): BinaryWriter {
  w.tag(1, WireType.Varint).int32(1).tag(2, WireType.LengthDelimited).fork();
  // proto3 leaves a zero size out, as it does every default value.
  for (const size of shape) {
    w.tag(2, WireType.LengthDelimited).fork();
    if (size !== 0) w.tag(1, WireType.Varint).int64(size);
    w.join();
  }
  w.join();
  if (values.length > 0) {
    w.tag(5, WireType.LengthDelimited).fork();
    for (const value of values) w.float(value);
    w.join();
  }
  return w;
}
