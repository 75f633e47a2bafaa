"""Keras 3 on TensorFlow for the tests, one process per test file: TensorFlow loads once (about 10 s), then each
request is one JSON line on stdin and gets one JSON line on stdout ({"id", "result"} or {"id", "error"}).
Arrays travel as raw little-endian files named in the request (float32 images [n, 28, 28], uint8 labels), not JSON.
Keras's own prints (fit's progress bar, warnings) go to stderr so stdout carries only the replies.
"""
import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
replies = sys.stdout
sys.stdout = sys.stderr

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# The ops of test/keras/ops_*.py (one module per topic) join the ones below.
for _module in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
    if _module.startswith("ops_") and _module.endswith(".py"):
        globals().update({k: v for k, v in vars(__import__(_module[:-3])).items() if k.startswith("op_")})


def images(req, key="x"):
    return np.fromfile(req[key], dtype="<f4").reshape(-1, 28, 28)


def labels(req, key="y"):
    return np.fromfile(req[key], dtype=np.uint8).astype("int64")


def op_versions(req):
    return {"keras": keras.__version__, "tensorflow": tf.__version__, "backend": keras.backend.backend()}


def op_predict(req):
    """The model at `model` predicts `x`; the probabilities are written to `out` (float32)."""
    model = keras.models.load_model(req["model"])
    probs = model.predict(images(req), batch_size=1024, verbose=0).astype("<f4")
    probs.tofile(req["out"])
    return {"shape": list(probs.shape)}


def op_evaluate(req):
    model = keras.models.load_model(req["model"])
    loss, accuracy = model.evaluate(images(req), labels(req), batch_size=32, verbose=0)
    return {"loss": float(loss), "accuracy": float(accuracy)}


def op_summary(req):
    model = keras.models.load_model(req["model"])
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return {"summary": "\n".join(lines), "layers": [type(l).__name__ for l in model.layers]}


def op_train_save(req):
    """Géron's Sequential API: trains `epochs` on `x`, `y`, saves to every path of `save` (.keras and/or .h5, both
    with the optimizer's state, model.save's default)."""
    keras.utils.set_random_seed(req.get("seed", 42))
    layers = [keras.layers.Input((28, 28)), keras.layers.Flatten()]
    for units in req["hidden_units"]:
        layers.append(keras.layers.Dense(units, activation=req.get("activation", "relu")))
        if req.get("batch_norm"):
            layers.append(keras.layers.BatchNormalization())
        if req.get("dropout"):
            layers.append(keras.layers.Dropout(req["dropout"]))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    # A name ("adam") or a Keras config ({"class_name": "SGD", "config": {"momentum": 0.9}}).
    optimizer = keras.optimizers.get(req.get("optimizer", "sgd"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    model.fit(images(req), labels(req), epochs=req.get("epochs", 1), batch_size=32, verbose=0)
    for path in req["save"]:
        model.save(path)
    return {"saved": req["save"]}


def op_continue_fit(req):
    """Loads `model` with its optimizer state, reports it, then fits one epoch on `x`, `y` in order (batch 32, no
    shuffling) twice: as loaded, and with a fresh optimizer of the same config (the control). The trainable weights
    after each are written to `out` and `fresh_out` (float32, concatenated); `slot_out` gets optimizer variable 2."""
    model = keras.models.load_model(req["model"])
    opt = model.optimizer
    loaded = {
        "class": type(opt).__name__,
        "iterations": int(opt.iterations.numpy()),
        "learning_rate": float(opt.learning_rate.numpy()),
        "variables": len(opt.variables),
    }
    if len(opt.variables) > 2:
        opt.variables[2].numpy().astype("<f4").tofile(req["slot_out"])
    x, y = images(req), labels(req)

    def fit_and_save(m, out):
        # Eagerly: ten steps cost less than tracing a train function for them (two per call, one per model), and
        # the optimizer's update is the same code either way.
        m.run_eagerly = True
        history = m.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
        np.concatenate([v.numpy().ravel() for v in m.trainable_variables]).astype("<f4").tofile(out)
        return float(history.history["loss"][0])

    loss = fit_and_save(model, req["out"])
    after = int(opt.iterations.numpy())
    fresh = keras.models.load_model(req["model"], compile=False)
    fresh.compile(optimizer=type(opt).from_config(opt.get_config()), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fresh_loss = fit_and_save(fresh, req["fresh_out"])
    return {**loaded, "loss": loss, "iterations_after": after, "fresh_loss": fresh_loss}


def op_save_conv(req):
    """A model with a layer the exchange does not cover (Conv2D), saved to `save`."""
    model = keras.Sequential(
        [keras.layers.Input((28, 28)), keras.layers.Reshape((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.save(req["save"])
    return {"saved": req["save"]}


def op_write_plain_h5(req):
    """An HDF5 file that is not a Keras model: one dataset, no model_config."""
    import h5py

    with h5py.File(req["save"], "w") as f:
        f.create_dataset("data", data=np.arange(10, dtype="float32"))
    return {"saved": req["save"]}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            reply = {"id": req["id"], "result": globals()["op_" + req["op"]](req)}
        except Exception as err:  # the test reads the sentence; the traceback goes to stderr
            traceback.print_exc()
            reply = {"id": req["id"], "error": f"{type(err).__name__}: {err}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
