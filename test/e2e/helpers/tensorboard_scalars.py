"""Reads event files with TensorBoard's own EventAccumulator: every run folder given on the command line, printed
as one JSON object {folder: {tag: [[step, value], ...]}} (scalars only). Loaded once per test file."""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

out = {}
for folder in sys.argv[1:]:
    acc = EventAccumulator(folder, size_guidance={"scalars": 0})
    acc.Reload()
    out[folder] = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
print(json.dumps(out))
