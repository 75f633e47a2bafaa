"""Optimizer and schedule ops for keras_server.py: Keras trains a tiny MLP from given weights on given batches,
in a given order, and reports what the test compares with this project (weights, slots, iterations, losses, rates).
"""
import numpy as np
import keras

# Each optimizer's per-variable slots: the name the test uses for the kind -> the Keras attribute holding the list.
SLOTS = {
    "SGD": {"momentum": "momentums"},
    "Adam": {"momentum": "_momentums", "velocity": "_velocities"},
    "AdamW": {"momentum": "_momentums", "velocity": "_velocities"},
    "Nadam": {"momentum": "_momentums", "velocity": "_velocities"},
    "RMSprop": {"velocity": "_velocities", "momentum": "_momentums"},
    "Adamax": {"m": "_m", "u": "_u"},
    "Adagrad": {"accumulator": "_accumulators"},
    "Adadelta": {"accumulated_grad": "_accumulated_grads", "accumulated_delta_var": "_accumulated_delta_vars"},
}


def _floats(path, rows):
    return np.fromfile(path, dtype="<f4").reshape(rows)


def _learning_rate(spec):
    """A number, or {"type": "exponential" | "piecewise", ...} as the project's config names the schedule."""
    if not isinstance(spec, dict):
        return spec
    if spec["type"] == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(spec["initial_learning_rate"], spec["decay_steps"], spec["decay_rate"])
    if spec["type"] == "piecewise":
        return keras.optimizers.schedules.PiecewiseConstantDecay(spec["boundaries"], spec["values"])
    raise ValueError(f"unknown schedule {spec['type']}")


def _model(hidden, weights):
    layers = [keras.layers.Input((28, 28)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.set_weights([np.asarray(w["values"], dtype="float32").reshape(w["shape"]) for w in weights])
    return model


def _plateau(model, spec):
    if not spec:
        return None
    callback = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=spec["factor"], patience=spec["patience"], min_delta=spec["min_delta"],
        cooldown=spec["cooldown"], min_lr=spec["min_lr"], verbose=0,
    )
    callback.set_model(model)
    callback.on_train_begin()
    return callback


def _slots(optimizer):
    return {
        kind: [np.asarray(v).ravel().tolist() for v in getattr(optimizer, attr)]
        for kind, attr in SLOTS[type(optimizer).__name__].items()
        if getattr(optimizer, attr, None)
    }


def op_optimizer_steps(req):
    """Keras's Sequential MLP (Dense `hidden` relu, Dense 10 softmax) set to `weights`, compiled with
    keras.optimizers.<optimizer>(**`config`) (`config.learning_rate` may be a schedule), trains with train_on_batch on
    the rows `order[epoch][batch]` of `x`, `y` (`n` rows); with `plateau`, ReduceLROnPlateau reads `vx`, `vy`'s loss
    after each epoch. Replies each epoch's mean loss, val_loss and last learning rate, and the final weights and slots."""
    x, y = _floats(req["x"], (req["n"], 28, 28)), np.fromfile(req["y"], dtype=np.uint8).astype("int64")
    model = _model(req["hidden"], req["weights"])
    config = dict(req["config"])
    if "learning_rate" in config:  # else Keras's default for the optimizer
        config["learning_rate"] = _learning_rate(config["learning_rate"])
    optimizer = getattr(keras.optimizers, req["optimizer"])(**config)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer)
    plateau = _plateau(model, req.get("plateau"))
    history = {"loss": [], "val_loss": [], "learning_rate": []}
    for epoch, batches in enumerate(req["order"]):
        total = 0.0
        for rows in batches:
            rate = float(np.asarray(optimizer.learning_rate))  # what this step uses (a schedule reads iterations)
            total += float(model.train_on_batch(x[rows], y[rows])) * len(rows)
        logs = {"loss": total / sum(len(rows) for rows in batches), "learning_rate": rate}
        if req.get("vx"):
            vx = _floats(req["vx"], (-1, 28, 28))
            vy = np.fromfile(req["vy"], dtype=np.uint8).astype("int64")
            logs["val_loss"] = float(model.evaluate(vx, vy, batch_size=len(vy), verbose=0))
        if plateau:
            plateau.on_epoch_end(epoch, dict(logs))
        for key in history:
            if key in logs:
                history[key].append(logs[key])
    return {
        **history,
        "iterations": int(optimizer.iterations.numpy()),
        "weights": [np.asarray(w).ravel().tolist() for w in model.get_weights()],
        "slots": _slots(optimizer),
    }
