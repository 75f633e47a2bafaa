// An event file that grows one record at a time, as TensorFlow's EventsWriter: unlike the project's other files
// it is appended to, not written atomically, because TensorBoard reads it while it grows. Each record goes to the
// file in one write() of its full frame, so a process killed at any point leaves every earlier record whole and
// at most a torn last one, which TensorBoard's reader skips (it waits for the rest of a record, then ignores it).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathError, isErrnoError, makeFolder } from "../io/fs-errors";
import { fileVersionEvent, type SummaryValue, summaryEvent } from "./event";
import { frameRecord } from "./record";
import { UserError } from "../errors/user-error";

/**
 * Writes one event file in `dir`, named as TensorFlow names them, `events.out.tfevents.<unix secs>.<host>`
 * (TensorBoard picks up any file whose name contains "tfevents"). The file version record is written at once.
 */
export class EventFileWriter {
  readonly file: string;
  private fd: number | null;

  constructor(
    readonly dir: string,
    now: () => number = () => Date.now() / 1000,
  ) {
    this.now = now;
    const wallTime = now();
    // The pid keeps two writers started in the same second on one host (a resumed run, a test) apart.
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(wallTime)}.${os.hostname()}.${process.pid}.${fileCounter++}`);
    try {
      makeFolder(dir);
      this.fd = fs.openSync(this.file, "a");
    } catch (err) {
      if (isErrnoError(err)) throw pathError(err, this.file, "no TensorBoard log is written");
      throw err;
    }
    this.append(fileVersionEvent(wallTime));
  }

  private readonly now: () => number;

  /** One scalar at `step` (Keras: the epoch, or the global batch for batch_* tags). */
  scalar(tag: string, value: number, step: number): void {
    this.summary([{ tag, simpleValue: value }], step);
  }

  /** Any summary values at `step`, in one Event. */
  summary(values: SummaryValue[], step: number, wallTime: number = this.now()): void {
    this.append(summaryEvent(wallTime, step, values));
  }

  /** Asks the OS to put what was written on the disk (TensorFlow's flush), so a power loss keeps it too. */
  flush(): void {
    if (this.fd !== null) fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = null;
  }

  private append(event: Uint8Array): void {
    if (this.fd === null) throw new UserError(`${this.file}: the event file is closed; open a new EventFileWriter to write more`);
    const frame = frameRecord(event);
    try {
      // writeSync may write fewer bytes than asked (a full disk); loop so a record is whole or the write throws.
      for (let done = 0; done < frame.length; ) done += fs.writeSync(this.fd, frame, done);
    } catch (err) {
      if (isErrnoError(err)) throw pathError(err, this.file, "the records before this one are kept");
      throw err;
    }
  }
}

let fileCounter = 0;
