#!/usr/bin/python3
"""PyTorch peer of `fashion-ann bench`: the config's MLP trained the same way, for a side-by-side time.

Same model as lib/model/factory.ts builds from the config (hidden sizes, activation, kernel initializer
with Keras's truncated normals, zero biases, BatchNormalization after each hidden layer or before its
activation, dropout, softmax output through the cross-entropy loss, Keras's L2 penalty l2*sum(W^2) added
to the loss), the same optimizer with Keras 3's defaults (as lib/optimizers createOptimizer), the
same clipping, the same data (the same IDX files, the first N training images held out for validation,
pixels / 255, optionally standardized per pixel) and the SAME batch order:
the node side writes each epoch's shuffled indices (its seeded shuffle, as train() draws them) to a
binary file of little-endian uint32, epochs x samples.

Usage: pytorch_peer.py SPEC_JSON   (the node side builds the spec; see lib/bench/peer.ts)
Prints one JSON object (the RawRun of lib/bench/report.ts) on stdout; progress goes to stderr.
"""
import json
import os
import resource
import sys
import time

# Idle OpenMP threads spin by default, stealing the core the other thread needs on a 2-core box.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist_files import batch_orders, load_splits, rss_mb  # noqa: E402

EVAL_BATCH = 2048  # as lib/train.ts: same mean, fewer calls


def log(msg):
    print(f"pytorch: {msg}", file=sys.stderr, flush=True)


# Keras's BatchNormalization(momentum=0.99, epsilon=1e-3): torch's momentum weighs the new batch, Keras's the old average.
BN_MOMENTUM = 0.01
BN_EPSILON = 1e-3
KERAS_EPSILON = 1e-7
# Keras's VarianceScaling truncates at 2 sigma and divides the stddev by this, the std of a unit normal so truncated.
TRUNCATED_STD = 0.87962566103423978


def activation(name):
    return {
        "relu": nn.ReLU,
        "elu": nn.ELU,
        "selu": nn.SELU,
        "leaky_relu": lambda: nn.LeakyReLU(0.2),  # Keras's LeakyReLU default slope, as lib/model/factory.ts
        "gelu": nn.GELU,  # exact (erf), Keras's default approximate=False
        "swish": nn.SiLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
    }[name]()


def init_kernel(weight, name):
    """Keras's initializer `name` on a torch weight [out, in] (Keras's kernel is [in, out]: same fans)."""
    fan_out, fan_in = weight.shape
    scale, fan = {
        "glorot_uniform": (1.0, (fan_in + fan_out) / 2), "glorot_normal": (1.0, (fan_in + fan_out) / 2),
        "he_uniform": (2.0, fan_in), "he_normal": (2.0, fan_in),
        "lecun_uniform": (1.0, fan_in), "lecun_normal": (1.0, fan_in),
    }[name]
    with torch.no_grad():
        if name.endswith("_uniform"):
            limit = (3.0 * scale / fan) ** 0.5
            weight.uniform_(-limit, limit)
        else:
            std = (scale / fan) ** 0.5 / TRUNCATED_STD
            nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)


def build_model(spec):
    layers, kernels, inputs = [], [], 784
    bn = spec["batch_norm"]
    for units in spec["hidden_units"]:
        dense = nn.Linear(inputs, units, bias=bn != "before")  # BN's beta makes the bias redundant
        init_kernel(dense.weight, spec["initializer"])
        layers.append(dense)
        kernels.append(dense.weight)
        if bn == "before":
            layers.append(nn.BatchNorm1d(units, eps=BN_EPSILON, momentum=BN_MOMENTUM))
        layers.append(activation(spec["activation"]))
        if bn is True:
            layers.append(nn.BatchNorm1d(units, eps=BN_EPSILON, momentum=BN_MOMENTUM))
        if spec["dropout"] > 0:
            layers.append(nn.Dropout(spec["dropout"]))
        inputs = units
    out = nn.Linear(inputs, 10)  # softmax lives in the loss (log-softmax + NLL)
    init_kernel(out.weight, "glorot_uniform")  # the output keeps Keras's default, as lib/model/factory.ts
    kernels.append(out.weight)
    layers.append(out)
    for m in layers:
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers), kernels


def build_optimizer(spec, params):
    """Keras 3's optimizer with its defaults (lib/optimizers createOptimizer), in torch's implementation.

    Same rules at a constant learning rate, except where epsilon sits: torch adds it outside the root for
    rmsprop and adagrad and to the bias-corrected sqrt(v) for the Adam family (as tfjs does); it only
    matters for gradients near 1e-6, not for the time a step takes.
    """
    name, lr = spec["optimizer"], spec["learning_rate"]
    betas, eps = (0.9, 0.999), KERAS_EPSILON
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=spec["momentum"], nesterov=spec["nesterov"] and spec["momentum"] > 0)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=eps, momentum=spec["momentum"])
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr, betas=betas, eps=eps)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=0.1, eps=eps)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=eps)
    if name == "nadam":
        return torch.optim.NAdam(params, lr=lr, betas=betas, eps=eps, momentum_decay=0.004)
    if name == "adamw":
        wd = spec["weight_decay"]
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=0.004 if wd is None else wd)
    raise SystemExit(f"optimizer: expected one of sgd, rmsprop, adam, adamax, adagrad, adadelta, nadam, adamw, got {name!r}")


def clip(spec, params):
    """Keras's clipnorm rescales each gradient tensor to its own norm; clipvalue clips each component."""
    if spec["clip_norm"] is not None:
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], spec["clip_norm"])
    if spec["clip_value"] is not None:
        torch.nn.utils.clip_grad_value_(params, spec["clip_value"])


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
    x_train, y_train, x_valid, y_valid = load_splits(spec)
    x_valid, x_train = torch.from_numpy(x_valid), torch.from_numpy(x_train)
    y_valid, y_train = torch.from_numpy(y_valid), torch.from_numpy(y_train)
    samples, bs, epochs = len(x_train), spec["batch_size"], spec["epochs"]
    orders = torch.from_numpy(batch_orders(spec, samples))
    steps = (samples + bs - 1) // bs

    model, kernels = build_model(spec)
    params = list(model.parameters())
    optimizer = build_optimizer(spec, params)
    l2 = spec["l2"]
    clipping = spec["clip_norm"] is not None or spec["clip_value"] is not None
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
            if l2 > 0:
                # Keras's regularizers.l2 adds l2*sum(W^2) to the loss (gradient 2*l2*W); torch's weight_decay would give l2*W.
                loss = loss + l2 * sum(w.square().sum() for w in kernels)
            loss.backward()
            if clipping:
                clip(spec, params)
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
        "note": f"torch {torch.__version__}, {torch.get_num_threads()} threads, same batch order, {spec['optimizer']}",
    }))


if __name__ == "__main__":
    main()
