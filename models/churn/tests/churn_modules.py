"""The models/churn modules, imported without taking their bare names.

models/maintenance also has features.py, train.py, modeling.py and report.py, and ``npm test``
runs both suites in one pytest process, so whichever suite imported ``features`` first would hand
its module to the other. Ours are imported with models/churn first on sys.path, then removed from
sys.modules (and anything they displaced put back): they keep working through the references they
bound at import time, and the maintenance suite imports its own.
"""
import importlib
import sys
from pathlib import Path

CHURN_DIR = Path(__file__).resolve().parents[1]
NAMES = ("spark_session", "features", "modeling", "reasons", "report", "drift", "batch_drift", "rollout_rules", "batch_rollout", "make_reference", "train", "score", "evaluate",
         "devlake", "bench")


def _load() -> dict:
    displaced = {name: sys.modules.pop(name) for name in NAMES if name in sys.modules}
    sys.path.insert(0, str(CHURN_DIR))
    try:
        return {name: importlib.import_module(name) for name in NAMES}
    finally:
        sys.path.remove(str(CHURN_DIR))
        for name in NAMES:
            sys.modules.pop(name, None)
        sys.modules.update(displaced)


_modules = _load()
spark_session = _modules["spark_session"]
features = _modules["features"]
modeling = _modules["modeling"]
reasons = _modules["reasons"]
report = _modules["report"]
train = _modules["train"]
score = _modules["score"]
devlake = _modules["devlake"]
bench = _modules["bench"]
drift = _modules["drift"]
batch_drift = _modules["batch_drift"]
rollout_rules = _modules["rollout_rules"]
batch_rollout = _modules["batch_rollout"]
evaluate = _modules["evaluate"]
