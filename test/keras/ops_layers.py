"""Keras's side of test/e2e/keras-layers.test.ts: layers, BatchNormalization, Dropout, l2 and initializers.

Models come as a list of layer specs (the test reads them off the project's model), weights as one raw float32
file in Keras's get_weights() order (per layer: kernel, bias; gamma, beta, moving_mean, moving_variance), inputs
as raw float32 rows [n, 784] and labels as uint8. Dropout's masks can be handed over (keep flags, 0 or 1, in the
order the layers call dropout): the two sides' random streams differ, so the same training steps need the same masks.
"""
import numpy as np
import keras
import tensorflow as tf


def _layer(spec):
    kind = spec["type"]
    if kind == "flatten":
        return keras.layers.Flatten()
    if kind == "dense":
        l2 = spec.get("l2", 0)
        return keras.layers.Dense(
            spec["units"],
            activation=spec.get("activation", "linear"),
            use_bias=spec.get("use_bias", True),
            kernel_regularizer=keras.regularizers.l2(l2) if l2 else None,
        )
    if kind == "batch_normalization":
        return keras.layers.BatchNormalization(momentum=spec["momentum"], epsilon=spec["epsilon"])
    if kind == "dropout":
        return keras.layers.Dropout(spec["rate"])
    if kind == "activation":
        return keras.layers.Activation(spec["activation"])
    if kind == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=spec["negative_slope"])
    raise ValueError(f"layer spec type {kind!r} is not one of flatten, dense, batch_normalization, dropout, activation, leaky_relu")


def _model(req):
    return keras.Sequential([keras.layers.Input((req["input_size"],)), *[_layer(s) for s in req["layers"]]])


def _set_weights(model, flat):
    """`flat` holds every weight in get_weights() order (per layer: kernel, bias; gamma, beta, moving_mean, moving_variance)."""
    at = 0
    for layer in model.layers:
        values = []
        for w in layer.weights:
            size = int(np.prod(w.shape))
            values.append(flat[at : at + size].reshape(w.shape))
            at += size
        if values:
            layer.set_weights(values)
    if at != flat.size:
        raise ValueError(f"the weights hold {flat.size} values, the model has {at}")


def _weights(model):
    return np.concatenate([np.asarray(w).ravel() for w in model.get_weights()])


class _GivenMasks:
    """Keras's dropout with the keep flags the test hands over, in call order (TF's formula: x·1/(1-rate) where kept)."""

    def __init__(self, flags):
        self.flags = flags
        self.at = 0

    def __call__(self, inputs, rate, noise_shape=None, seed=None):
        size = int(np.prod(inputs.shape))
        if self.at + size > self.flags.size:
            raise ValueError(f"dropout asked for {size} more mask values, only {self.flags.size - self.at} were given")
        keep = self.flags[self.at : self.at + size].reshape(inputs.shape) > 0
        self.at += size
        scale = tf.cast(1 / (1 - rate), inputs.dtype)
        return tf.where(keep, inputs * scale, tf.zeros_like(inputs))


def op_layers_train(req):
    """Keras's plain SGD(`lr`) step from each of the project's states: one step per batch of `batch` rows of `x`, `y`.

    `weights` holds steps + 1 snapshots of the project's weights (float32, get_weights() order): before each step and
    after the last. Step k starts from snapshot k, so each step is compared on its own and float32 round-off does not
    compound over the steps; with `chained`, Keras takes all steps from snapshot 0 on its own, and with `float64` it
    computes in float64 (the reference for chained steps, free of float32 round-off on both sides). Writes to `out` (float32): predict(x_eval) at the first snapshot, the weights after each
    step, predict(x_eval) at the last snapshot. Returns each step's loss (l2 penalty included, as train_on_batch reports).
    """
    policy = keras.config.dtype_policy()
    if req.get("float64"):
        keras.config.set_dtype_policy("float64")
    try:
        model = _model(req)
    finally:
        keras.config.set_dtype_policy(policy)
    masks = None
    if req.get("masks"):
        masks = _GivenMasks(np.fromfile(req["masks"], dtype="<f4"))
    # Eagerly: a traced step would bake the first step's masks in, and tracing costs more than five small steps.
    model.compile(optimizer=keras.optimizers.SGD(req["lr"]), loss="sparse_categorical_crossentropy", run_eagerly=True)
    steps, n = req["steps"], req["batch"]
    snapshots = np.fromfile(req["weights"], dtype="<f4").reshape(steps + 1, -1)
    x = np.fromfile(req["x"], dtype="<f4").reshape(-1, req["input_size"])
    y = np.fromfile(req["y"], dtype=np.uint8).astype("int64")
    x_eval = np.fromfile(req["x_eval"], dtype="<f4").reshape(-1, req["input_size"])
    _set_weights(model, snapshots[0])
    before = np.asarray(model(x_eval, training=False)).ravel()
    original = keras.src.backend.random.dropout
    if masks:
        keras.src.backend.random.dropout = masks
    losses, stepped = [], []
    try:
        for s in range(steps):
            if s == 0 or not req.get("chained"):
                _set_weights(model, snapshots[s])
            losses.append(float(model.train_on_batch(x[s * n : (s + 1) * n], y[s * n : (s + 1) * n])))
            stepped.append(_weights(model))
    finally:
        keras.src.backend.random.dropout = original
    if masks and masks.at != masks.flags.size:
        raise ValueError(f"{masks.flags.size - masks.at} of the given mask values were not used")
    _set_weights(model, snapshots[steps])
    after = np.asarray(model(x_eval, training=False)).ravel()
    np.concatenate([before, *stepped, after]).astype("<f4").tofile(req["out"])
    return {"losses": losses, "predictions": int(before.size)}


def op_layers_initializer(req):
    """`count` draws of Keras's initializer `name` for a kernel of `shape` (seeded), written to `out`."""
    init = keras.initializers.get({"class_name": req["name"], "config": {"seed": req["seed"]}})
    values = np.asarray(init(tuple(req["shape"]))).astype("<f4")
    values.tofile(req["out"])
    return {"size": int(values.size)}


def op_layers_dropout(req):
    """Keras's own Dropout(`rate`) at training and at inference on `size` ones: what a kept unit becomes, and how many drop."""
    layer = keras.layers.Dropout(req["rate"], seed=req.get("seed", 1))
    ones = np.ones((1, req["size"]), dtype="float32")
    trained = np.asarray(layer(ones, training=True)).ravel()
    inferred = np.asarray(layer(ones, training=False)).ravel()
    kept = trained[trained != 0]
    return {
        "dropped": int((trained == 0).sum()),
        "kept_values": sorted({float(v) for v in kept}),
        "inference_values": sorted({float(v) for v in inferred}),
    }
