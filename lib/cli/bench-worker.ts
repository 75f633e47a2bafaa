// Child-process entry of `fashion-ann bench`: one backend per process, so maxRSS and the tfjs
// backend's state belong to that backend alone. The parent sends a MeasureSpec over IPC and gets
// back { result } or { error }.
import { measureBackend, type MeasureSpec, type WorkerReply } from "../bench/measure";

function reply(message: WorkerReply): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

if (require.main === module) {
  if (!process.send) throw new Error("bench worker: start it with child_process.fork (it needs an IPC channel)");
  process.once("message", (spec: MeasureSpec) => {
    measureBackend(spec)
      .then((result) => reply({ result }))
      .catch((err: unknown) => reply({ error: err instanceof Error ? err.message.split("\n")[0]! : String(err) }))
      // Exit explicitly: wasm/tfjs-node may leave handles that keep the event loop alive.
      .finally(() => process.exit(0));
  });
}
