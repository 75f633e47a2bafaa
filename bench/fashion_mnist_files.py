"""What the Python peers of `fashion-ann bench` (bench/pytorch_peer.py, bench/keras_peer.py) share: the Fashion-MNIST
IDX files, checked against the sha256 the node side sends, split and scaled as the tutorial does, and the node side's
batch order."""
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


def read_part(spec, part):
    """(images, labels) of "train" or "test" as uint8 rows of 784 pixels and uint8 labels."""
    files = spec["files"]
    img, lab = files[f"{part}Images"], files[f"{part}Labels"]
    d = find_dir(spec["data_dirs"], [img["name"], lab["name"]])
    return read_idx(os.path.join(d, img["name"]), IMAGES_MAGIC, img["sha256"]), read_idx(os.path.join(d, lab["name"]), LABELS_MAGIC, lab["sha256"])


def load_splits(spec, test=False):
    """(x_train, y_train, x_valid, y_valid), plus (x_test, y_test) with `test`: float32 rows of 784 pixels and int64
    labels, the config's way."""
    images, labels = read_part(spec, "train")
    v = spec["validation_size"]
    # The tutorial's split and scaling: the first v images validate, pixels / 255.
    x_valid = images[:v].astype(np.float32) / 255.0
    x_train = images[v:].astype(np.float32) / 255.0
    sets = [x_train, x_valid]
    if test:
        test_images, test_labels = read_part(spec, "test")
        sets.append(test_images.astype(np.float32) / 255.0)
    if spec["normalize"] == "standardize":
        # As lib/data/standardize.ts: the training part's per-pixel mean and population std, 1 where constant.
        mean = x_train.mean(axis=0, dtype=np.float64)
        std = x_train.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0
        sets = [((x - mean) / std).astype(np.float32) for x in sets]
    out = (sets[0], labels[v:].astype(np.int64), sets[1], labels[:v].astype(np.int64))
    return out + (sets[2], test_labels.astype(np.int64)) if test else out


def batch_orders(spec, samples):
    """Each epoch's shuffled indices as the node side drew them (little-endian uint32, epochs x samples)."""
    epochs = spec["epochs"]
    orders = np.fromfile(spec["order_file"], dtype="<u4")
    if orders.size != epochs * samples:
        raise SystemExit(f"{spec['order_file']}: {orders.size} indices, expected {epochs} epochs x {samples} samples")
    return orders.astype(np.int64).reshape(epochs, samples)
