"""Optuna peer of `fashion-ann bench --samplers`: Optuna 5.0's TPESampler (its defaults, seeded) on a search space
given in fashion-ann's JSON form, through Optuna's ask-and-tell interface. The objective is evaluated by the node
side, so both sides optimise exactly the same function.

Usage: .venv/bin/python optuna_peer.py SPEC_JSON   (SPEC: {"space": {...}, "seeds": [...], "trials": n})
Protocol, one JSON object per line: the peer writes {"seed", "trial", "params", "seconds"} (seconds: ask() plus the
suggest calls, i.e. the sampler's own time) and reads back {"value": v}; it writes {"done": true} at the end.
"""
import json
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def suggest(trial, name, spec):
    kind = spec["type"]
    if kind == "int":
        if spec.get("log") and spec.get("step") is not None:
            # Powers of step: Optuna has no such distribution; the listed values are the closest equivalent.
            values, v = [], spec["min"]
            while v <= spec["max"]:
                values.append(v)
                v *= spec["step"]
            return trial.suggest_categorical(name, values)
        return trial.suggest_int(name, spec["min"], spec["max"], step=spec.get("step") or 1, log=bool(spec.get("log")))
    if kind == "float":
        return trial.suggest_float(name, spec["min"], spec["max"], log=bool(spec.get("log")))
    if kind == "choice":
        return trial.suggest_categorical(name, spec["values"])
    if kind == "bool":
        return trial.suggest_categorical(name, [False, True])
    if kind == "fixed":
        return spec["value"]
    raise ValueError(f"{name}: unknown entry type {kind!r}")


def main():
    spec = json.loads(sys.argv[1])
    space = spec["space"]
    for seed in spec["seeds"]:
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        for i in range(spec["trials"]):
            t0 = time.perf_counter()
            trial = study.ask()
            params = {name: suggest(trial, name, space[name]) for name in sorted(space)}
            seconds = time.perf_counter() - t0
            print(json.dumps({"seed": seed, "trial": i, "params": params, "seconds": seconds}), flush=True)
            reply = json.loads(sys.stdin.readline())
            study.tell(trial, reply["value"])
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
