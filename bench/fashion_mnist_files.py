"""The Fashion-MNIST IDX reading the Python peers of `fashion-ann bench` share (bench/keras_peer.py; bench/pytorch_peer.py
keeps its own copy), checked against the sha256 the node side sends."""
import gzip
import hashlib
import os

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


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
