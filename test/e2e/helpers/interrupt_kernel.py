#!/usr/bin/python3
"""Drive a real tslab kernel through jupyter_client the way Jupyter's interrupt button does, for
test/e2e/interrupt.test.ts: start a training cell, interrupt the kernel once the cell reports that
training runs, then look at what happened. Prints one JSON object on stdout; the test asserts on it.

    JUPYTER_PATH=.jupyter/share/jupyter /usr/bin/python3 interrupt_kernel.py CWD CELLS_JSON

CELLS_JSON is {"setup": src, "train": src, "probe": src, "marker": str, "after": src}: `setup` runs first, `train`
is the cell to interrupt (it must print `marker` once training is under way; the interrupt waits, too, for a
figure (SVG) in the cell's live display, so the figure renderer is running when the signal comes), `probe` prints
the state, `after` (optional) runs last, e.g. a cell that uses the model.
Every wait is bounded; a timeout is reported in the JSON rather than hanging the test.
"""
import json
import queue
import sys
import time

from jupyter_client.manager import KernelManager

# Each cell's live display (latest text/plain, whether it showed an SVG figure), by the cell's msg_id. The dict is
# shared with the result, so a display updated after its cell returned shows in the printed JSON.
DISPLAYS = {}

STARTUP_TIMEOUT_SEC = 60
SETUP_TIMEOUT_SEC = 300
MARKER_TIMEOUT_SEC = 300
# How long a stopped cell may take to return: the current batch plus a checkpoint, far below this.
STOP_TIMEOUT_SEC = 60
# How long to watch the counters after the stop: several hundred batches would have run by then.
SETTLE_SEC = 3


def execute(kc, code, timeout, marker=None, on_marker=None):
    """Runs `code`, collecting stream output, until the reply and the idle status arrive or `timeout`."""
    msg_id = kc.execute(code)
    out = []
    display = DISPLAYS.setdefault(msg_id, {"text": "", "svg": False})
    reply = None
    idle = False
    fired = False
    deadline = time.monotonic() + timeout
    while (reply is None or not idle) and time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
            parent = msg["parent_header"].get("msg_id")
            kind = msg["msg_type"]
            if kind in ("display_data", "update_display_data") and parent in DISPLAYS:
                # Any cell's: a stopped training's last update can come after its cell has returned.
                data = msg["content"].get("data", {})
                DISPLAYS[parent]["text"] = data.get("text/plain", DISPLAYS[parent]["text"])
                DISPLAYS[parent]["svg"] = DISPLAYS[parent]["svg"] or "image/svg+xml" in data
            if parent == msg_id:
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    out.append("\n".join(msg["content"].get("traceback", [])) or msg["content"].get("evalue", ""))
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
        except queue.Empty:
            pass
        if marker and not fired and marker in "".join(out) and display["svg"]:
            fired = True
            on_marker()
            # Give the stop its own budget, counted from the interrupt.
            deadline = time.monotonic() + STOP_TIMEOUT_SEC
        try:
            msg = kc.get_shell_msg(timeout=0.01)
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg["content"]["status"]
        except queue.Empty:
            pass
    return {
        "status": reply,
        "idle": idle,
        "output": "".join(out),
        "display": display,
        "timed_out": reply is None or not idle,
    }


def main():
    cwd, cells = sys.argv[1], json.loads(sys.argv[2])
    km = KernelManager(kernel_name="tslab")
    km.start_kernel(cwd=cwd)
    kc = km.client()
    kc.start_channels()
    result = {}
    try:
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT_SEC)
        result["setup"] = execute(kc, cells["setup"], SETUP_TIMEOUT_SEC)
        interrupted_at = {}

        def interrupt():
            interrupted_at["t"] = time.monotonic()
            km.interrupt_kernel()

        result["train"] = execute(kc, cells["train"], MARKER_TIMEOUT_SEC, cells["marker"], interrupt)
        result["interrupted"] = "t" in interrupted_at
        result["alive_after_stop"] = km.is_alive()
        # After a failed cell tslab aborts whatever arrives within 200 ms (as IPython's stop_on_error does).
        time.sleep(0.5)
        result["probe1"] = execute(kc, cells["probe"], 60)
        time.sleep(SETTLE_SEC)
        result["probe2"] = execute(kc, cells["probe"], 60)
        # An interrupt with nothing running must leave the kernel alone as well.
        km.interrupt_kernel()
        time.sleep(1)
        result["probe3"] = execute(kc, cells["probe"], 60)
        if "after" in cells:
            result["after"] = execute(kc, cells["after"], 120)
        result["alive_at_end"] = km.is_alive()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
