"""Production artifacts: ONNX (verified against LightGBM), the LightGBM text model, its JSON dump
(for the stream's TreeSHAP) and model-meta.json. Written to models/maintenance/artifacts/ for the
simulator (train.py) and to a plant profile's ``model.artifacts`` for other plants (train_plant.py):

    model.onnx       onnxmltools convert_lightgbm, zipmap=False: input "features" float32 [N, F]
                     (F = 42 for the simulator),
                     outputs "label" int64 [N] and "probabilities" float32 [N, 2] (column 1: failure)
    model.txt        booster.save_model (best iteration only)
    model-dump.json  booster.dump_model() (compact JSON; the stream's lightgbm-model.ts reads it)
    model-meta.json  name, version, features, thresholds, spec constants, data hash, code version
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import lightgbm as lgb
import numpy as np

from features import DEFAULT_SPEC, FEATURE_NAMES, FeatureSpec

MODEL_NAME = "arm-failure-lgbm"
ONNX_TOLERANCE = 1e-5


def git(*args: str, cwd: Path) -> str:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def code_version(repo: Path) -> dict:
    dirty = git("status", "--porcelain", "--", "models/maintenance", cwd=repo)
    return {"commit": git("rev-parse", "HEAD", cwd=repo), "short": git("rev-parse", "--short=7", "HEAD", cwd=repo),
            "models_maintenance_dirty": bool(dirty and dirty != "unknown")}


def trimmed(booster: lgb.Booster, best_iteration: int) -> lgb.Booster:
    """The booster with only its first ``best_iteration`` trees."""
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration))


def _down_to_float32(t: float) -> float:
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def float32_safe(booster: lgb.Booster) -> tuple[lgb.Booster, int]:
    """The same model with every split threshold t replaced by the largest float32 <= t.

    For a float32 input x, ``x <= t`` iff ``x <= that float32``, so LightGBM decides exactly as
    before on float32 inputs; and ONNX, which stores thresholds as float32 (rounded to nearest by
    the converter), then compares with the same value instead of one rounded up past some inputs."""
    changed = 0
    lines = booster.model_to_string().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("threshold="):
            old = [float(v) for v in line[len("threshold="):].split()]
            new = [_down_to_float32(v) for v in old]
            changed += sum(a != b for a, b in zip(old, new))
            lines[i] = "threshold=" + " ".join(repr(v) for v in new)
    # tree_sizes= holds each tree's byte length, now stale; without it LightGBM parses tree by tree
    lines = [line for line in lines if not line.startswith("tree_sizes=")]
    return lgb.Booster(model_str="\n".join(lines)), changed


def to_onnx(booster: lgb.Booster, model_name: str = MODEL_NAME):
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = convert_lightgbm(booster, name=model_name, initial_types=[("features", FloatTensorType([None, booster.num_feature()]))],
                             zipmap=False, target_opset=15)
    for output in model.graph.output:  # the converter declares label as [1]; it is [N] (probabilities [N, 2])
        dims = output.type.tensor_type.shape.dim
        if len(dims):
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "N"
    return model


def verify_onnx(model_bytes: bytes, booster: lgb.Booster, x: np.ndarray) -> dict:
    """ONNX (float32 input) vs LightGBM on the same float32-rounded rows."""
    import onnxruntime as ort

    x32 = np.ascontiguousarray(x, dtype=np.float32)
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    outputs = {o.name: v for o, v in zip(session.get_outputs(), session.run(None, {"features": x32}))}
    p_onnx = outputs["probabilities"][:, 1].astype(np.float64)
    p_lgb = booster.predict(x32.astype(np.float64))
    diff = np.abs(p_onnx - p_lgb)
    return {"rows": int(len(x32)), "max_abs_diff": float(diff.max()), "rows_over_tolerance": int((diff > ONNX_TOLERANCE).sum()),
            "tolerance": ONNX_TOLERANCE, "outputs": {k: list(v.shape[1:]) for k, v in outputs.items()}}


def write_artifacts(out: Path, booster: lgb.Booster, x_check: np.ndarray, meta_extra: dict, repo: Path, *,
                    model_name: str = MODEL_NAME, feature_names=FEATURE_NAMES, spec: FeatureSpec = DEFAULT_SPEC) -> dict:
    """Writes the four artifacts; raises if ONNX disagrees with LightGBM beyond 1e-5."""
    if booster.num_feature() != len(feature_names):
        raise ValueError(f"the model takes {booster.num_feature()} features, {len(feature_names)} names were given")
    out.mkdir(parents=True, exist_ok=True)
    x64 = np.asarray(x_check, dtype=np.float32).astype(np.float64)
    safe, changed = float32_safe(booster)
    moved = float(np.abs(safe.predict(x64) - booster.predict(x64)).max())
    if moved != 0.0:
        raise AssertionError(f"float32-safe thresholds changed predictions on float32 inputs (max {moved:.3g})")
    booster = safe
    onnx_model = to_onnx(booster, model_name)
    model_bytes = onnx_model.SerializeToString()
    check = verify_onnx(model_bytes, booster, x_check)
    check["thresholds_rounded_down_to_float32"] = changed
    if check["rows_over_tolerance"]:
        raise AssertionError(f"ONNX differs from LightGBM on {check['rows_over_tolerance']} rows (max {check['max_abs_diff']:.3g})")
    (out / "model.onnx").write_bytes(model_bytes)
    booster.save_model(str(out / "model.txt"))
    (out / "model-dump.json").write_text(json.dumps(booster.dump_model(), separators=(",", ":")))
    code = code_version(repo)
    now = datetime.now(timezone.utc)
    meta = {
        "model_name": model_name,
        "model_version": f"{now:%Y.%m.%d}-{code['short']}",
        "feature_names": list(feature_names),
        **meta_extra,
        "spec": {"document": "docs/factoryguard-features.md", "bucket_ms": spec.bucket_ms, "lateness_buckets": spec.lateness_buckets,
                 "ring_buckets": spec.ring_buckets, "windows_buckets": dict(spec.windows), "ema_tau_ms": dict(spec.ema)},
        "onnx": {"file": "model.onnx", "input": "features", "input_type": f"float32[N,{len(feature_names)}]", "output": "probabilities",
                 "output_type": "float32[N,2], column 1 = P(failure within the label's horizon)", "opset": {o.domain or "ai.onnx": o.version for o in onnx_model.opset_import}, "check": check},
        "lightgbm": {"version": lgb.__version__, "text_model": "model.txt", "dump": "model-dump.json", "trees": booster.num_trees()},
        "code_version": code,
        "created": now.isoformat(timespec="seconds"),
    }
    (out / "model-meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
