"""Loads a study that `fashion-ann search --export` wrote, with Optuna's and pandas' own code, and prints what they
see as one JSON object on stdout (test/e2e/search-export.test.ts compares it with the study).

usage: load_study.py JOURNAL STUDY_NAME [CSV]
"""
import json
import math
import sys

import optuna
from optuna.distributions import distribution_to_json
from optuna.importance import FanovaImportanceEvaluator, get_param_importances
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

optuna.logging.set_verbosity(optuna.logging.ERROR)


def number(x):
    # JSON has no NaN: the test reads "NaN" back as NaN.
    return "NaN" if isinstance(x, float) and math.isnan(x) else x


journal, name = sys.argv[1], sys.argv[2]
study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(journal)))
out = {
    "direction": study.direction.name,
    "user_attrs": study.user_attrs,
    "trials": [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "distributions": {k: json.loads(distribution_to_json(d)) for k, d in t.distributions.items()},
            "intermediate_values": {str(k): number(v) for k, v in sorted(t.intermediate_values.items())},
            "user_attrs": t.user_attrs,
        }
        for t in study.trials
    ],
}
complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
if complete:
    out["best_params"] = study.best_params
    out["best_value"] = study.best_value
if len(complete) >= 2:
    # get_param_importances' default evaluator in Optuna 5 is PED-ANOVA; fANOVA (a random forest) for comparison.
    out["importances"] = get_param_importances(study)
    out["fanova"] = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
if len(sys.argv) > 3:
    import pandas as pd

    df = pd.read_csv(sys.argv[3])
    exact = pd.read_csv(sys.argv[3], float_precision="round_trip")
    out["csv"] = {
        "exact_floats": {
            c: [None if math.isnan(v) else v for v in exact[c]] for c in exact.columns if exact[c].dtype == "float64"
        },
        "columns": list(df.columns),
        "dtypes": {c: str(t) for c, t in df.dtypes.items()},
        # Every value as pandas parsed it (full precision), missing ones as null.
        "rows": [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in df.to_dict(orient="records")],
    }
print(json.dumps(out, default=lambda o: o.item()))  # numpy scalars as Python numbers
