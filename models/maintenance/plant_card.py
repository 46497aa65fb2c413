"""The model card of one plant's failure model, written into its artifacts folder from the folder's
own metrics.json and model-meta.json, so every trained version carries a card that names it.

    python models/maintenance/plant_card.py models/maintenance/plants/cmapss-fd001

`models promote` (streams/runtime/model-registry/gates.ts) refuses a version whose MODEL_CARD.md does
not name its model_version; train_plant.py calls write_plant_card() after each training. The method,
data and design choices common to every plant are in models/maintenance/MODEL_CARD.md.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

MODEL_NAMES = {"lr": "logistic regression", "rf": "random forest", "lgbm": "LightGBM", "lgbm_smote": "LightGBM + SMOTE"}


def _f(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def plant_card(meta: dict, metrics: dict) -> str:
    plant, version = meta["plant_id"], meta["model_version"]
    train, evaluation = metrics["data"]["train"], metrics["data"]["evaluation"]
    counts = train.get("counts")
    train_rows = f": {counts['readings']:,} readings, {counts['arms']} arms" if counts else ""
    ci = metrics.get("bootstrap", {}).get("pr_auc_95", {})
    rows = []
    for key, m in metrics["models"].items():
        at = m.get("test_at_threshold", {})
        lo_hi = ci.get(key)
        rows.append(f"| {MODEL_NAMES.get(key, key)}{' (shipped)' if key == 'lgbm' else ''} | {_f(m.get('val_pr_auc'))} | {_f(m.get('test_pr_auc'))}"
                    f" | {'n/a' if not lo_hi else f'{lo_hi[0]:.3f}–{lo_hi[1]:.3f}'} | {_f(at.get('precision'))} | {_f(at.get('recall'))} |")
    horizon_h = meta["horizon_ms"] / 3_600_000
    return f"""# Model card: `{meta['model_name']}` version `{version}`

Failure model of plant **{plant}** (profile `{meta['profile']}`, sha256 `{meta['profile_sha256'][:12]}…`): the
probability that an arm (a machine of the plant) fails within {horizon_h:g} h, from its profile's
channels as windowed features. Written by `models/maintenance/plant_card.py` from this folder's
`metrics.json` and `model-meta.json`; the method, features and limits shared by every plant are in
[models/maintenance/MODEL_CARD.md](../../MODEL_CARD.md).

| | |
| --- | --- |
| Version | `{version}` (created {meta['created']}) |
| Training data | {train.get('source', train.get('dir'))}{train_rows}, sha256 `{str(train.get('readings_sha256'))[:12]}…` |
| Evaluation data | {evaluation.get('source', evaluation.get('dir'))} ({evaluation.get('kind', 'held out')}), sha256 `{str(evaluation.get('readings_sha256'))[:12]}…`; never used for a choice |
| Validation | {metrics['validation']} |
| Alerts | raise at p >= {_f(meta['threshold'], 4)} ({meta['threshold_rule']}), clear below {_f(meta['clear_threshold'], 4)} after {meta['clear_after']} readings, cooldown {meta['cooldown_ms'] // 60000} min |
| Regimes | {'none (one operating condition)' if not meta.get('regimes') else f"{len(meta['regimes'].get('centroids', []))} operating regimes (KMeans on the settings), z-scored per regime"} |

| model | validation PR-AUC | test PR-AUC | test 95 % CI (bootstrap by arm) | test precision at threshold | test recall at threshold |
| --- | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

LightGBM beats both baselines on test: {metrics.get('lgbm_beats_baselines')}.
"""


def write_plant_card(folder: Path) -> Path:
    meta = json.loads((folder / "model-meta.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    out = folder / "MODEL_CARD.md"
    out.write_text(plant_card(meta, metrics))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plant_card.py ARTIFACTS_FOLDER")
    print(write_plant_card(Path(sys.argv[1])))
