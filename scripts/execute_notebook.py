#!/usr/bin/python3
"""Execute notebooks headlessly through Jupyter kernels, papermill-style, one after another.

Called by lib/notebook/execute.ts (runNotebooks); not meant to be used by hand, although it works:

    JUPYTER_PATH=.jupyter/share/jupyter /usr/bin/python3 scripts/execute_notebook.py \
        --input notebooks/01_data.ipynb --output runs/x/notebooks/01_data.ipynb \
        --input notebooks/02_plot.ipynb --output runs/x/notebooks/02_plot.ipynb \
        --cwd notebooks --parameters 'overrides = {}; runDir = "runs/x";' \
        --error-pattern '^\\w*Error: '

Each notebook gets a fresh kernel, as in Jupyter. The next notebook's kernel starts while the
current notebook runs: a tslab kernel takes 3-10 s to start (TypeScript), and one process
running all notebooks can hide that wait, where one process per notebook could not.

It reports progress as JSON lines on stdout (one object per line, "type" says which), so the
caller can show live progress without parsing Jupyter messages itself:
    notebook {path}                    the next notebook (its --input) begins; later events are about it
    start {cells}                      cells = number of code cells that will run
    kernel_ready {waited}              seconds this notebook waited for its kernel (0 when it started ahead)
    cell_start {number, firstLine}     number counts code cells from 1
    stream {name, text}                kernel stdout/stderr, as it arrives
    cell_done {number, seconds}
    failed {number, firstLine, message}
    written {path}
It stops at the first notebook that fails. Exit status: 0 ok, 1 a cell failed (the partly
executed notebook is still written), 2 a notebook cannot be run as it is (e.g. no "parameters" cell).

Why not plain `jupyter nbconvert --execute`: tslab reports compile errors and unhandled
rejections only as stderr text, sometimes with an "ok" reply, and nbconvert would pass those.
"""
import argparse
import asyncio
import json
import os
import queue
import re
import signal
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async
from nbconvert.preprocessors.coalescestreams import coalesce_streams

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
# How long to keep listening after the last cell for output of work it left running
# (an un-awaited promise that rejects a moment later).
LATE_OUTPUT_GRACE_SEC = 0.5
MAX_MESSAGE_CHARS = 4000


def emit(kind, **fields):
    sys.stdout.write(json.dumps({"type": kind, **fields}) + "\n")
    sys.stdout.flush()


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


class NotebookSetupError(Exception):
    """The notebook cannot be run as it is (no parameters cell, ...); the message says how to fix it."""


def inject_parameters(nb, parameters_source, path):
    """Insert the injected-parameters cell right after the cell tagged "parameters" (papermill's convention)."""
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.metadata.get("tags", [])]
    tagged = [i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.metadata.get("tags", [])]
    if not tagged:
        raise NotebookSetupError(
            f'{path}: no cell tagged "{PARAMETERS_TAG}"; add one that declares the defaults the runner '
            'overrides, e.g. `let overrides: ConfigOverrides = {}; let runDir = "../runs/interactive";`, '
            'and give it the tag "parameters" (View > Cell Toolbar > Tags).'
        )
    if len(tagged) > 1:
        raise NotebookSetupError(f'{path}: {len(tagged)} cells are tagged "{PARAMETERS_TAG}" (cells {tagged}); expected exactly one.')
    cell = nbformat.v4.new_code_cell(parameters_source)
    cell.metadata["tags"] = [INJECTED_TAG]
    nb.cells.insert(tagged[0] + 1, cell)


class StreamingClient(NotebookClient):
    """NotebookClient that streams kernel output live and keeps output nbclient would drop.

    nbclient ignores messages whose parent is not the running cell; tslab sends output of
    timers and promises started by an earlier cell with that earlier cell as parent, and
    those are exactly the errors we must not miss.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs, on_cell_executed=self._record_reply)
        self.stray_streams = []
        self.last_reply_status = "ok"

    def _record_reply(self, cell, cell_index, execute_reply):
        self.last_reply_status = execute_reply["content"].get("status", "ok")

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if msg["msg_type"] == "stream":
            emit("stream", name=msg["content"]["name"], text=msg["content"]["text"])
        return out

    def _note_stray(self, msg):
        if msg["msg_type"] == "stream":
            self.stray_streams.append(msg["content"])
            emit("stream", name=msg["content"]["name"], text=msg["content"]["text"])

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        # Same loop as nbclient 0.7's, plus _note_stray for messages of other parents.
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") == parent_msg_id:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    return
            else:
                self._note_stray(msg)

    async def drain_late_output(self, seconds):
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=left))
            except queue.Empty:
                return
            self._note_stray(msg)


# Stack frames inside tslab or Node itself say nothing about the notebook; they only bury the error.
INTERNAL_FRAME = re.compile(r"^\s+at .*(node_modules/tslab/|node:internal/|node:vm:|\(node:)")


def error_text(outputs, error_re):
    """The error text among a cell's outputs: error outputs plus stderr streams that look like errors."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}")
        elif out.get("output_type") == "stream" and out.get("name") == "stderr" and error_re.search(out.get("text", "")):
            parts.append(out["text"].rstrip())
    lines = "\n".join(parts).splitlines()
    return "\n".join(line for line in lines if not INTERNAL_FRAME.match(line))


def write_atomically(nb, path):
    # One output per run of stdout (or stderr) text, with \r-overwritten progress removed: the
    # notebook then reads as Jupyter's own UI saves it, not as one output per write() call.
    nb, _ = coalesce_streams(nb, {})
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ipynb", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    emit("written", path=path)


def clip(text):
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "\n... (cut)"


STARTUP_TIMEOUT_SEC = 300  # a tslab kernel compiles TypeScript on start; a loaded 2-core machine took over 120 s


class KernelStart:
    """A kernel started ahead of its notebook: the process now, the wait for its first reply in the background."""

    def __init__(self, kernel_name, cwd, notebook):
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        self.kc = None
        self.task = asyncio.ensure_future(self._start(cwd, notebook))

    async def _start(self, cwd, notebook):
        # JPY_SESSION_NAME names the notebook, as Jupyter's server does: the project's kernel reads the dataset ahead
        # only for a notebook that loads it (lib/notebook/loads-data.ts).
        await self.km.start_kernel(cwd=cwd, env={**os.environ, "JPY_SESSION_NAME": os.path.abspath(notebook)})
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT_SEC)

    async def ready(self):
        """Seconds spent waiting here for the kernel to answer (0 when it was ready already)."""
        started = time.monotonic()
        await self.task
        return time.monotonic() - started

    async def shutdown(self):
        if not self.task.done():
            self.task.cancel()
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - best effort: the kernel may be half-started or dead already
            pass


async def run_notebook(args, source, output, kernel, kernels, next_source):
    """Runs one notebook in `kernel` (a KernelStart), shuts the kernel down and writes the output; 0 ok, 1 a cell failed.

    With `next_source` (the next notebook's path), its kernel is started (appended to `kernels`) once this one is ready, not
    before: two kernels starting at once on a 2-core machine would delay this notebook's first cell.
    """
    nb = nbformat.read(source, as_version=4)
    if args.parameters is not None:
        inject_parameters(nb, args.parameters, source)
    error_re = re.compile(args.error_pattern, re.MULTILINE)
    client = StreamingClient(
        nb,
        km=kernel.km,
        kernel_name=args.kernel,
        timeout=args.timeout if args.timeout > 0 else None,  # whole seconds: nbclient wants an int
        startup_timeout=STARTUP_TIMEOUT_SEC,
        # Errors are judged here (tslab's error replies carry no ename), so nbclient must not stop first.
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": args.cwd}},
    )
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    emit("start", cells=len(code_cells))
    emit("kernel_ready", waited=round(await kernel.ready(), 2))
    if next_source:
        kernels.append(KernelStart(args.kernel, args.cwd, next_source))
    client.kc = kernel.kc
    failure = None
    # cleanup_kc: the kernel is ours (started ahead), so nbclient shuts it down when the notebook ends.
    async with client.async_setup_kernel(cleanup_kc=True):
        info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        if info is not None and "language_info" in info["content"]:
            nb.metadata["language_info"] = info["content"]["language_info"]
        for number, index in enumerate(code_cells, start=1):
            cell = nb.cells[index]
            emit("cell_start", number=number, firstLine=first_line(cell.source))
            client.stray_streams = []
            started = time.monotonic()
            client.last_reply_status = "ok"
            try:
                await client.async_execute_cell(cell, index, execution_count=number)
            except CellTimeoutError:
                failure = f"timed out after {args.timeout} s (raise timeoutPerCellSec if this cell is meant to run longer)"
            except DeadKernelError:
                failure = "the kernel died while running this cell (process.exit(), a crash, or out of memory)"
            if failure is None:
                message = error_text(cell.outputs, error_re)
                stray = error_text([{"output_type": "stream", **s} for s in client.stray_streams], error_re)
                if stray:
                    message = (message + "\n" if message else "") + "(output of work started by an earlier cell)\n" + stray
                if client.last_reply_status == "error" and not message:
                    message = "the kernel reported an error without a message"
                if message:
                    failure = message
            if failure is not None:
                emit("failed", number=number, firstLine=first_line(cell.source), message=clip(failure))
                break
            emit("cell_done", number=number, seconds=round(time.monotonic() - started, 2))
        if failure is None:
            client.stray_streams = []
            await client.drain_late_output(LATE_OUTPUT_GRACE_SEC)
            stray = error_text([{"output_type": "stream", **s} for s in client.stray_streams], error_re)
            if stray:
                failure = stray
                last = nb.cells[code_cells[-1]] if code_cells else None
                emit("failed", number=len(code_cells), firstLine=first_line(last.source) if last else "",
                     message=clip("(output after the last cell finished)\n" + stray))
    write_atomically(nb, output)
    return 1 if failure is not None else 0


async def run(args):
    """Runs the notebooks in order, each in its own kernel; the next one's kernel starts while the current notebook runs."""
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    kernels = []

    def stop_on_signal():
        # Between notebooks (nbclient has its own handlers while one runs): stop, and let `finally` end the kernels.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, main_task.cancel)

    try:
        kernels.append(KernelStart(args.kernel, args.cwd, args.input[0]))
        for i, (source, output) in enumerate(zip(args.input, args.output)):
            stop_on_signal()
            emit("notebook", path=source)
            next_source = args.input[i + 1] if i + 1 < len(args.input) else None
            status = await run_notebook(args, source, output, kernels[i], kernels, next_source)
            if status != 0:
                return status
        return 0
    finally:
        for kernel in kernels:
            await kernel.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, action="append", help="a notebook to run (repeatable, run in order)")
    parser.add_argument("--output", required=True, action="append", help="where to write it (one per --input)")
    parser.add_argument("--cwd", required=True, help="kernel working directory")
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--parameters", help="source of the injected-parameters cell")
    parser.add_argument("--timeout", type=int, default=0, help="seconds per cell; 0 = none")
    parser.add_argument("--error-pattern", required=True, help="regex (multiline) for stderr text that means failure")
    args = parser.parse_args()
    if len(args.input) != len(args.output):
        parser.error(f"{len(args.input)} --input but {len(args.output)} --output; give one --output per --input")
    try:
        sys.exit(asyncio.run(run(args)))
    except NotebookSetupError as e:
        emit("failed", number=0, firstLine="", message=str(e))
        sys.exit(2)
    except (KeyboardInterrupt, asyncio.CancelledError):
        emit("failed", number=0, firstLine="", message="stopped by a signal (Ctrl-C or SIGTERM)")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - any other setup failure, as one line the caller can show
        emit("failed", number=0, firstLine="", message=f"{type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
