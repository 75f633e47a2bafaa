"""Optuna peer of `fashion-ann bench --samplers`: Optuna 5.0's TPESampler (its defaults, seeded) on a search space
given in fashion-ann's JSON form, through Optuna's ask-and-tell interface. The objective is evaluated by the node
side, so both sides optimise exactly the same function.

Usage: .venv/bin/python optuna_peer.py SPEC_JSON   (SPEC: {"space": {...}, "seeds": [...], "trials": n})
       .venv/bin/python optuna_peer.py SPEC_JSON   (SPEC: {"space": {...}, "history": {"params": [...], "values": [...]}})
The second form prints {"seconds": s}: one suggestion's median time once the study holds those finished trials.
Protocol, one JSON object per line: the peer writes {"seed", "trial", "params", "seconds"} (seconds: CPU time of ask()
plus the suggest calls, i.e. the sampler's own work, as the node side measures ours) and reads back {"value": v}; it writes {"done": true} at the end.
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


def distribution(spec):
    kind = spec["type"]
    if kind == "int" and not (spec.get("log") and spec.get("step") is not None):
        return optuna.distributions.IntDistribution(spec["min"], spec["max"], step=spec.get("step") or 1, log=bool(spec.get("log")))
    if kind == "float":
        return optuna.distributions.FloatDistribution(spec["min"], spec["max"], log=bool(spec.get("log")))
    if kind == "choice":
        return optuna.distributions.CategoricalDistribution(spec["values"])
    raise ValueError(f"history timing supports int, float and choice entries, got {kind!r}")


def time_at(spec):
    """Median seconds of one suggestion once the study holds the given finished trials (params and values)."""
    space = spec["space"]
    dists = {name: distribution(space[name]) for name in space}
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=7))
    history = zip(spec["history"]["params"], spec["history"]["values"])
    study.add_trials([optuna.trial.create_trial(params=p, distributions=dists, value=v) for p, v in history])
    times = []
    for _ in range(spec.get("repeats", 5)):
        t0 = time.process_time()
        trial = study.ask()
        for name in sorted(space):
            suggest(trial, name, space[name])
        times.append(time.process_time() - t0)
        # A failed trial is left out of every later suggestion, so each timing sees the same history.
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    times.sort()
    print(json.dumps({"seconds": times[len(times) // 2]}), flush=True)


def main():
    arg = sys.argv[1]
    # @FILE: the spec is in a file (a thousand trials' history is too long for a command line).
    spec = json.load(open(arg[1:])) if arg.startswith("@") else json.loads(arg)
    if "history" in spec:
        time_at(spec)
        return
    space = spec["space"]
    for seed in spec["seeds"]:
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        for i in range(spec["trials"]):
            t0 = time.process_time()
            trial = study.ask()
            params = {name: suggest(trial, name, space[name]) for name in sorted(space)}
            seconds = time.process_time() - t0
            print(json.dumps({"seed": seed, "trial": i, "params": params, "seconds": seconds}), flush=True)
            reply = json.loads(sys.stdin.readline())
            study.tell(trial, reply["value"])
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
