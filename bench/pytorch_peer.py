#!/usr/bin/python3
"""PyTorch peer of `fashion-ann bench`: the tutorial MLP trained the same way, for a side-by-side time.

Same model (784-300-100-10, ReLU, softmax output through the cross-entropy loss, Glorot-uniform
weights, zero biases), SGD with the same learning rate and batch size, the same data (the same IDX
files, the first N training images held out for validation, pixels / 255) and the SAME batch order:
the node side writes each epoch's shuffled indices (its seeded shuffle, as train() draws them) to a
binary file of little-endian uint32, epochs x samples.

Usage: pytorch_peer.py SPEC_JSON   (the node side builds the spec; see lib/bench/peer.ts)
Prints one JSON object (the RawRun of lib/bench/report.ts) on stdout; progress goes to stderr.
"""
import gzip
import hashlib
import json
import os
import resource
import sys
import time

# Idle OpenMP threads spin by default, stealing the core the other thread needs on a 2-core box.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
EVAL_BATCH = 2048  # as lib/train.ts: same mean, fewer calls


def log(msg):
    print(f"pytorch: {msg}", file=sys.stderr, flush=True)


def read_idx(path, magic, sha256):
    raw = gzip.open(path, "rb").read()
    got = hashlib.sha256(raw).hexdigest()
    if got != sha256:
        raise SystemExit(f"{path}: sha256 {got}, expected {sha256}")
    found = int.from_bytes(raw[0:4], "big")
    if found != magic:
        raise SystemExit(f"{path}: magic {found}, expected {magic}")
    count = int.from_bytes(raw[4:8], "big")
    if magic == IMAGES_MAGIC:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    return np.frombuffer(raw, dtype=np.uint8, offset=8)


def find_dir(dirs, names):
    for d in dirs:
        if all(os.path.exists(os.path.join(d, n)) for n in names):
            return d
    raise SystemExit(f"Fashion-MNIST files {', '.join(names)} not found in any of {', '.join(dirs)}")


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build_model(hidden_units):
    layers, inputs = [], 784
    for units in hidden_units:
        layers += [nn.Linear(inputs, units), nn.ReLU()]
        inputs = units
    layers.append(nn.Linear(inputs, 10))  # softmax lives in the loss (log-softmax + NLL)
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)  # Keras Dense default: Glorot uniform
            nn.init.zeros_(m.bias)
    return model


def evaluate(model, x, y):
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            logits = model(x[start:start + EVAL_BATCH])
            yb = y[start:start + EVAL_BATCH]
            loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    return loss_sum / len(x), correct / len(x)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    files = spec["files"]
    d = find_dir(spec["data_dirs"], [files["trainImages"]["name"], files["trainLabels"]["name"]])
    images = read_idx(os.path.join(d, files["trainImages"]["name"]), IMAGES_MAGIC, files["trainImages"]["sha256"])
    labels = read_idx(os.path.join(d, files["trainLabels"]["name"]), LABELS_MAGIC, files["trainLabels"]["sha256"])
    v = spec["validation_size"]
    # The tutorial's split and scaling: the first v images validate, pixels / 255.
    x_valid = torch.from_numpy(images[:v].astype(np.float32) / 255.0)
    y_valid = torch.from_numpy(labels[:v].astype(np.int64))
    x_train = torch.from_numpy(images[v:].astype(np.float32) / 255.0)
    y_train = torch.from_numpy(labels[v:].astype(np.int64))
    samples, bs, epochs = len(x_train), spec["batch_size"], spec["epochs"]
    orders = np.fromfile(spec["order_file"], dtype="<u4")
    if orders.size != epochs * samples:
        raise SystemExit(f"{spec['order_file']}: {orders.size} indices, expected {epochs} epochs x {samples} samples")
    orders = torch.from_numpy(orders.astype(np.int64).reshape(epochs, samples))
    steps = (samples + bs - 1) // bs

    model = build_model(spec["hidden_units"])
    optimizer = torch.optim.SGD(model.parameters(), lr=spec["learning_rate"])
    records = []
    for epoch in range(epochs):
        log(f"epoch {epoch + 1}/{epochs} ...")
        begin = time.perf_counter()
        model.train()
        for b in range(steps):
            idx = orders[epoch, b * bs:(b + 1) * bs]
            xb, yb = x_train.index_select(0, idx), y_train.index_select(0, idx)
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            # The node loop reads loss and correct count every step (Keras's running metrics); so does this.
            loss.item()
            (logits.argmax(1) == yb).sum().item()
        train_end = time.perf_counter()
        val_loss, val_acc = evaluate(model, x_valid, y_valid)
        end = time.perf_counter()
        records.append({
            "seconds": end - begin,
            "train_seconds": train_end - begin,
            "val_accuracy": val_acc,
            "val_loss": val_loss,
            "tensors": None,
            "rss_mb": rss_mb(),
        })
        log(f"epoch {epoch + 1}/{epochs} {end - begin:.2f} s, val_accuracy {val_acc:.4f}")

    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "backend": "pytorch",
        "batch_size": bs,
        "samples": samples,
        "steps": steps,
        "epochs": records,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads, same batch order",
    }))


if __name__ == "__main__":
    main()
