// TensorBoard's HParams dashboard reads one "session" per trial folder: a `_hparams_/session_start_info` value
// with the trial's hyperparameters and a `_hparams_/session_end_info` value with its status, each an empty
// float tensor whose SummaryMetadata carries HParamsPluginData (plugins/hparams/plugin_data.proto). TensorBoard
// 2.21 infers the experiment (the columns) from the sessions and the metrics from the scalar tags beside them.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { SummaryValue } from "./event";
import type { EventFileWriter } from "./writer";

const PLUGIN_NAME = "hparams";
const SESSION_START_TAG = "_hparams_/session_start_info";
const SESSION_END_TAG = "_hparams_/session_end_info";

/** api.proto's Status. */
const SESSION_STATUS = { unknown: 0, success: 1, failure: 2, running: 3 } as const;
export type SessionStatus = keyof typeof SESSION_STATUS;

/** A hyperparameter value as google.protobuf.Value can hold it (arrays are shown as their JSON text). */
export type HParamValue = number | string | boolean;

/** `_hparams_/session_start_info`: the trial's hyperparameters; `groupName` groups repeats of one setting. */
export function sessionStartValue(hparams: Record<string, HParamValue>, startTimeSecs: number, groupName = ""): SummaryValue {
  const w = new BinaryWriter().tag(3, WireType.LengthDelimited).fork(); // HParamsPluginData.session_start_info
  for (const [name, value] of Object.entries(hparams)) {
    // map<string, Value> is a repeated entry message {key 1, value 2}
    w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name);
    writeProtobufValue(w.tag(2, WireType.LengthDelimited).fork(), value).join();
    w.join();
  }
  if (groupName) w.tag(4, WireType.LengthDelimited).string(groupName);
  w.tag(5, WireType.Bit64).double(startTimeSecs).join();
  return pluginValue(SESSION_START_TAG, w.finish());
}

/** `_hparams_/session_end_info`: how the trial ended. */
export function sessionEndValue(status: SessionStatus, endTimeSecs: number): SummaryValue {
  const w = new BinaryWriter().tag(4, WireType.LengthDelimited).fork(); // HParamsPluginData.session_end_info
  w.tag(1, WireType.Varint).int32(SESSION_STATUS[status]).tag(2, WireType.Bit64).double(endTimeSecs).join();
  return pluginValue(SESSION_END_TAG, w.finish());
}

// HParamsPluginData.version is 0 (proto3 leaves it out); the value is an empty float tensor of shape [0].
function pluginValue(tag: string, content: Uint8Array): SummaryValue {
  return { tag, tensor: { shape: [0], values: [] }, plugin: { name: PLUGIN_NAME, content } };
}

// google.protobuf.Value{number_value 2, string_value 3, bool_value 4}
function writeProtobufValue(w: BinaryWriter, value: HParamValue): BinaryWriter {
  if (typeof value === "number") return w.tag(2, WireType.Bit64).double(value);
  if (typeof value === "boolean") return w.tag(4, WireType.Varint).bool(value);
  return w.tag(3, WireType.LengthDelimited).string(value);
}

/** Writes a trial's session start (status running until `writeSessionEnd`). */
export function writeSessionStart(writer: EventFileWriter, hparams: Record<string, HParamValue>, groupName = ""): void {
  writer.summary([sessionStartValue(hparams, Date.now() / 1000, groupName)], 0);
  writer.flush();
}

export function writeSessionEnd(writer: EventFileWriter, status: SessionStatus): void {
  writer.summary([sessionEndValue(status, Date.now() / 1000)], 0);
  writer.flush();
}
