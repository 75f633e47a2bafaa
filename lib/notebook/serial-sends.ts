import { tslabRequire } from "./tslab-require";

/*
 * zeromq (6.x) allows one send in flight per socket: a send made while the previous one still waits for the socket to
 * take it throws `Socket is busy writing (EBUSY)`. tslab sends every message without waiting, so when iopub backs up
 * (a busy machine, the live bar and the learning curves updating together) a display update threw inside the training
 * cell and failed it. Here a socket's sends run one after another: a send while an earlier one is pending waits for it,
 * in order; an idle socket still sends at once, so messages keep their order across sockets as tslab sent them.
 */

type Send = (this: object, ...args: unknown[]) => Promise<void>;

let installed = false;

/** Patches the zeromq that tslab loads (before tslab creates its sockets); idempotent. */
export function serializeZmqSends(): void {
  if (installed) return;
  installed = true;
  const zmq = tslabRequire<{ Publisher: { prototype: object } }>("zeromq");
  let proto: object | null = zmq.Publisher.prototype;
  while (proto && !Object.hasOwn(proto, "send")) proto = Object.getPrototypeOf(proto) as object | null;
  if (!proto) return;
  const send = (proto as { send: Send }).send;
  Object.defineProperty(proto, "send", { configurable: true, writable: false, value: serialized(send) });
}

/** `send` with one call in flight per socket: later calls wait for the pending one. */
export function serialized(send: Send): Send {
  const pending = new WeakMap<object, Promise<void>>();
  return function (this: object, ...args: unknown[]): Promise<void> {
    const before = pending.get(this);
    const sent = before ? before.then(() => send.apply(this, args)) : send.apply(this, args);
    // A failed send is tslab's to report (it ignores the promise, as before); the queue goes on after it.
    const settled = sent.then(
      () => undefined,
      () => undefined,
    );
    pending.set(this, settled);
    void settled.then(() => {
      if (pending.get(this) === settled) pending.delete(this);
    });
    return sent;
  };
}
