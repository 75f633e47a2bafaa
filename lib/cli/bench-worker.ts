// Child-process entry of `fashion-ann bench`: one backend per process, so maxRSS and the tfjs
// backend's state belong to that backend alone. The parent sends a MeasureSpec over IPC and gets
// back { result } or { error }.
import { measureBackend, type MeasureSpec, type WorkerReply } from "../bench/measure";
import { serveOneRequest } from "./ipc-worker";

if (require.main === module) {
  serveOneRequest<MeasureSpec, WorkerReply>("bench worker", async (spec) => ({ result: await measureBackend(spec) }));
}
