import { describe, expect, it } from "vitest";
import { keepBusyWhileQueued, type StatusMessage } from "../../lib/notebook/busy-status";

type Message = StatusMessage & { id: string };
const msg = (id: string, type = "execute_request"): Message => ({ id, header: { msg_type: type } });

/** A stand-in for tslab's ZmqServer: records the status messages it would publish, as "status:id". */
function server() {
  const sent: string[] = [];
  const s = { publishStatus: (status: string, parent: Message) => void sent.push(`${status}:${parent.id}`) };
  keepBusyWhileQueued<Message>(s);
  return { s, sent };
}

describe("keepBusyWhileQueued (the kernel status JupyterLab shows while cells run)", () => {
  it("follows a cell's idle with a busy for the next queued cell (Run All)", () => {
    const { s, sent } = server();
    const [a, b, c] = [msg("a"), msg("b"), msg("c")];
    for (const m of [a, b, c]) s.publishStatus("busy", m);
    s.publishStatus("idle", a);
    s.publishStatus("idle", b);
    s.publishStatus("idle", c);
    expect(sent).toEqual(["busy:a", "busy:b", "busy:c", "idle:a", "busy:b", "idle:b", "busy:c", "idle:c"]);
    expect(sent.at(-1)).toBe("idle:c");
  });

  it("says busy again after a request answered while a cell runs", () => {
    const { s, sent } = server();
    const cell = msg("cell");
    s.publishStatus("busy", cell);
    s.publishStatus("busy", msg("info", "kernel_info_request"));
    s.publishStatus("idle", msg("info", "kernel_info_request"));
    expect(sent.slice(-2)).toEqual(["idle:info", "busy:cell"]);
    s.publishStatus("idle", cell);
    expect(sent.at(-1)).toBe("idle:cell");
  });

  it("leaves an idle kernel's requests alone", () => {
    const { s, sent } = server();
    const info = msg("info", "complete_request");
    s.publishStatus("busy", info);
    s.publishStatus("idle", info);
    expect(sent).toEqual(["busy:info", "idle:info"]);
  });
});
