// Event files TensorBoard reads, written in TypeScript: records (TFRecord framing), Event/Summary messages, the
// appending writer, histograms and HParams sessions.
export { FILE_VERSION, fileVersionEvent, type Histogram, type SummaryValue, summaryEvent } from "./event";
export {
  type HParamValue,
  SESSION_END_TAG,
  SESSION_START_TAG,
  type SessionStatus,
  sessionEndValue,
  sessionStartValue,
  writeSessionEnd,
  writeSessionStart,
} from "./hparams";
export { histogramOf } from "./histogram";
export { crc32cOf, frameRecord, maskedCrc32c } from "./record";
export { EventFileWriter } from "./writer";
export { recordTrialSession, type TrialRecord } from "./trial-session";
