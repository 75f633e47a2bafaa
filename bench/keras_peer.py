"""Keras peer of `fashion-ann bench`: the seed's own code (Sequential, compile, fit at batch 32 with validation_data)
on TensorFlow CPU, building the config's MLP as lib/model/factory.ts does, on the same data and the same batch order.

The spec is the PyTorch peer's (lib/bench/peer.ts peerSpec). Each epoch is one `fit` call on that epoch's rows in
the node side's shuffled order (shuffle=False), so the batches are the node rows'; the epoch is timed by a callback
from on_epoch_begin to on_epoch_end, validation included, as Keras's own log times it.

Usage: .venv/bin/python keras_peer.py SPEC_JSON
Prints one JSON object (the RawRun of lib/bench/report.ts) on stdout; progress goes to stderr.
"""
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from fashion_mnist_files import batch_orders, load_splits, rss_mb  # noqa: E402


def log(msg):
    print(f"keras: {msg}", file=sys.stderr, flush=True)


def build_model(spec):
    """lib/model/factory.ts's createModel in Keras: the same layers, names aside."""
    layers = [keras.Input((28, 28)), keras.layers.Flatten()]
    bn, act = spec["batch_norm"], spec["activation"]
    reg = keras.regularizers.L2(spec["l2"]) if spec["l2"] > 0 else None
    for units in spec["hidden_units"]:
        separate = bn == "before" or act == "leaky_relu"
        layers.append(keras.layers.Dense(units, activation=None if separate else act, use_bias=bn != "before",
                                         kernel_initializer=spec["initializer"], kernel_regularizer=reg))
        if bn == "before":
            layers.append(keras.layers.BatchNormalization())
        if separate:
            layers.append(keras.layers.LeakyReLU(0.2) if act == "leaky_relu" else keras.layers.Activation(act))
        if bn is True:
            layers.append(keras.layers.BatchNormalization())
        if spec["dropout"] > 0:
            layers.append(keras.layers.Dropout(spec["dropout"]))
    layers.append(keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg))
    return keras.Sequential(layers)


def build_optimizer(spec):
    """Keras's own optimizer by name with the config's settings; Keras's defaults for the rest."""
    kwargs = {"learning_rate": float(spec["learning_rate"])}  # Keras refuses an int (JSON has no 1.0)
    if spec["optimizer"] in ("sgd", "rmsprop") and spec["momentum"]:
        kwargs["momentum"] = float(spec["momentum"])
    if spec["optimizer"] == "sgd":
        kwargs["nesterov"] = bool(spec["nesterov"])
    if spec["optimizer"] == "adamw" and spec["weight_decay"] is not None:
        kwargs["weight_decay"] = spec["weight_decay"]
    if spec["clip_norm"] is not None:
        kwargs["clipnorm"] = spec["clip_norm"]
    if spec["clip_value"] is not None:
        kwargs["clipvalue"] = spec["clip_value"]
    return keras.optimizers.get({"class_name": spec["optimizer"], "config": kwargs})


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of the epoch (validation included) and of its training part, as Keras's log line reports them."""

    def on_epoch_begin(self, epoch, logs=None):
        self.begin = time.perf_counter()
        self.train_end = None

    def on_test_begin(self, logs=None):
        self.train_end = self.train_end or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.end = time.perf_counter()
        self.logs = dict(logs or {})


def main():
    spec = json.loads(sys.argv[1])
    tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(spec["seed"])
    splits = load_splits(spec, test=spec.get("test", False))
    x_train, y_train, x_valid, y_valid = splits[:4]
    x_train, x_valid = x_train.reshape(-1, 28, 28), x_valid.reshape(-1, 28, 28)
    samples, bs, epochs = len(x_train), spec["batch_size"], spec["epochs"]
    orders = batch_orders(spec, samples)

    model = build_model(spec)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=build_optimizer(spec), metrics=["accuracy"])
    timer = EpochTimer()
    records = []
    for epoch in range(epochs):
        idx = orders[epoch]
        model.fit(x_train[idx], y_train[idx], batch_size=bs, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                  validation_data=(x_valid, y_valid), validation_batch_size=2048, callbacks=[timer], verbose=0)
        seconds = timer.end - timer.begin
        records.append({
            "seconds": seconds,
            "train_seconds": (timer.train_end or timer.end) - timer.begin,
            "val_accuracy": float(timer.logs["val_accuracy"]),
            "val_loss": float(timer.logs["val_loss"]),
            "tensors": None,
            "rss_mb": rss_mb(),
        })
        log(f"epoch {epoch + 1}/{epochs} {seconds:.2f} s, val_accuracy {timer.logs['val_accuracy']:.4f}")

    tested = {}
    if spec.get("test"):
        # `fashion-ann bench --fidelity`: the test set's loss and accuracy after training, as the seed's evaluate().
        loss, accuracy = model.evaluate(splits[4].reshape(-1, 28, 28), splits[5], batch_size=32, verbose=0)
        tested = {"test_loss": float(loss), "test_accuracy": float(accuracy)}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "backend": "keras",
        "batch_size": bs,
        "samples": samples,
        "steps": (samples + bs - 1) // bs,
        "epochs": records,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        **tested,
        "note": f"keras {keras.__version__}, tensorflow {tf.__version__} CPU, {spec['threads']} threads, same batch order, {spec['optimizer']}",
    }))


if __name__ == "__main__":
    main()
