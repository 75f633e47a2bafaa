import { describe, expect, it } from "vitest";
import { serialized, serializeZmqSends } from "../../lib/notebook/serial-sends";

/** A socket's send as zeromq 6 behaves: throws EBUSY while its previous send is still waiting to be written. */
function busySocket() {
  const written: string[] = [];
  let writing: (() => void) | undefined;
  const send = function (this: object, ...args: unknown[]): Promise<void> {
    if (writing)
      throw Object.assign(new Error("Socket is busy writing; only one send operation may be in progress at any time"), { code: "EBUSY" });
    return new Promise<void>((resolve) => {
      writing = () => {
        writing = undefined;
        written.push(String(args[0]));
        resolve();
      };
    });
  };
  return { send, written, flush: () => writing?.() };
}

describe("serialized zeromq sends (tslab's display updates under a backed-up iopub)", () => {
  it("the raw send throws EBUSY on a second send in flight; serialized, every message goes out in order", async () => {
    const raw = busySocket();
    const socket = {};
    raw.send.call(socket, "a");
    expect(() => raw.send.call(socket, "b")).toThrow(/EBUSY|busy writing/);

    const s = busySocket();
    const send = serialized(s.send);
    const sent = ["bar 1", "curves", "bar 2"].map((m) => send.call(socket, m));
    for (let i = 0; i < 3; i++) {
      s.flush();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sent);
    expect(s.written).toEqual(["bar 1", "curves", "bar 2"]);
  });

  it("an idle socket sends at once (same tick), and two sockets do not wait for each other", () => {
    const s = busySocket();
    const send = serialized(s.send);
    let calls = 0;
    const counting = serialized(function (this: object) {
      calls++;
      return new Promise<void>(() => {});
    });
    counting.call({});
    counting.call({});
    expect(calls).toBe(2);
    send.call({}, "x");
    s.flush();
    expect(s.written).toEqual(["x"]);
  });

  it("patches the zeromq tslab loads, once", () => {
    serializeZmqSends();
    serializeZmqSends();
    const zmq = require(require.resolve("zeromq", { paths: [require("node:path").dirname(require.resolve("tslab/dist/jupyter"))] }));
    let proto = zmq.Publisher.prototype;
    while (!Object.hasOwn(proto, "send")) proto = Object.getPrototypeOf(proto);
    expect(proto.send.name).toBe("");
  });
});
