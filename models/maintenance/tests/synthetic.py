"""A tiny plant in the simulator's file format (readings.csv.gz, failures.csv, meta.json) for
tests: a few arms, 1-minute readings, one failure each with a vibration/temperature ramp over the
day before it and a repair gap after it."""
import gzip
import json
from pathlib import Path

import numpy as np

START = 1_736_121_600_000  # 2025-01-06T00:00Z
MINUTE = 60_000


def write_plant(directory: Path, arms: int = 6, days: float = 4.0, seed: int = 0, first_arm: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    minutes = int(days * 1440)
    failures, lines = [], ["arm_id,sensor,value,unit,event_time,gateway_id,plant_id,sequence"]
    per_arm = []
    for a in range(arms):
        arm_id = f"arm-{first_arm + a + 1:03d}"
        fail_min = int(rng.integers(int(1.5 * 1440), minutes - 240))
        repair_min = fail_min + int(rng.integers(180, 300))
        failures.append((arm_id, START + fail_min * MINUTE, "bearing-wear", START + repair_min * MINUTE))
        per_arm.append((arm_id, fail_min, repair_min, rng.normal(2.8, 0.3), rng.normal(55, 3)))
    seq = {p[0]: 0 for p in per_arm}
    for m in range(minutes):
        for arm_id, fail_min, repair_min, vib0, temp0 in per_arm:
            if fail_min <= m < repair_min:
                continue
            ramp = max(0.0, 1 - (fail_min - m) / 1440) ** 2 if m < fail_min else 0.0
            values = (vib0 * (1 + ramp) + rng.normal(0, 0.15), temp0 + 8 * ramp + rng.normal(0, 0.4), 6.2 + rng.normal(0, 0.05))
            for sensor, unit, v in zip(("VIBRATION", "TEMPERATURE", "PRESSURE"), ("mm/s", "degC", "bar"), values):
                lines.append(f"{arm_id},{sensor},{v:.3f},{unit},{START + m * MINUTE},gw-01,plant-test,{seq[arm_id]}")
                seq[arm_id] += 1
    with gzip.open(directory / "readings.csv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    (directory / "failures.csv").write_text("arm_id,failure_time,mode,repaired_at\n" + "".join(f"{a},{t},{m},{r}\n" for a, t, m, r in failures))
    (directory / "meta.json").write_text(json.dumps({"options": {"arms": arms, "days": days, "seed": seed, "firstArm": first_arm}}))
    return directory


def write_cmapss(directory: Path, units: int = 10, seed: int = 0) -> Path:
    """train/test/RUL_FD001.txt.gz in C-MAPSS's layout (26 space-separated columns); s4 (T50, R)
    rises and s7 (P30, psia) falls towards the end of life."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    ruls = []
    for split in ("train", "test"):
        lines = []
        for u in range(1, units + 1):
            life = int(rng.integers(80, 160))
            cut = life if split == "train" else int(rng.integers(40, life - 5))
            if split == "test":
                ruls.append(life - cut)
            for c in range(1, cut + 1):
                wear = (c / life) ** 3
                row = [0.0] * 21
                row[3] = 1400 + 30 * wear + rng.normal(0, 3)
                row[6] = 554 - 4 * wear + rng.normal(0, 0.5)
                lines.append(" ".join([str(u), str(c), "0.0", "0.0", "100.0"] + [f"{v:.4f}" for v in row]))
        with gzip.open(directory / f"{split}_FD001.txt.gz", "wt") as fh:
            fh.write("\n".join(lines) + "\n")
    with gzip.open(directory / "RUL_FD001.txt.gz", "wt") as fh:
        fh.write("\n".join(map(str, ruls)) + "\n")
    return directory


ENGINE_PROFILE = {
    "plant_id": "test-engines", "sample_interval_ms": 3_600_000,
    "channels": [{"name": "t50", "code": "a", "unit": "degR", "min": 0, "max": 5000},
                 {"name": "p30", "code": "b", "unit": "psia", "min": 0, "max": 5000},
                 {"name": "w31", "code": "c", "unit": "lbm/s", "min": 0, "max": 500}],
    "operating_settings": [{"name": "altitude"}, {"name": "mach"}],
    "label": {"source": "run_to_failure", "horizon_ms": 24 * 3_600_000},
    "features": {"bucket_ms": 3_600_000, "lateness_buckets": 1, "windows": [{"label": "5c", "buckets": 5}, {"label": "15c", "buckets": 15}],
                 "ema": [{"label": "5c", "tau_ms": 5 * 3_600_000}], "regimes": {"k": 2}},
    "model": {"artifacts": "models/maintenance/plants/test-engines"},
}


def write_engine_export(directory: Path, units: int = 12, seed: int = 0, truncated: bool = False, profile: dict = ENGINE_PROFILE) -> Path:
    """A run-to-failure plant export (readings.csv.gz with channel and settings, profile.json,
    meta.json; end_rul.csv when ``truncated``): engines in two flight regimes that shift every
    channel, t50 rising and p30 falling towards the end of life, one sample per hour."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    lines, ends = ["arm_id,sensor,channel,value,unit,event_time,gateway_id,plant_id,sequence,settings"], []
    rows = []
    for u in range(1, units + 1):
        life = int(rng.integers(60, 120))
        cut = int(rng.integers(30, life - 2)) if truncated else life
        ends.append((f"engine-{u:03d}", life - cut))
        for c in range(1, cut + 1):
            regime = int(rng.integers(0, 2))
            wear = (c / life) ** 3
            values = (1400 + 200 * regime + 30 * wear + rng.normal(0, 2), 550 - 100 * regime - 5 * wear + rng.normal(0, 0.5), 23 + rng.normal(0, 0.1))
            settings = f"{10.0 + 25 * regime + rng.normal(0, 0.01):.4f};{0.25 + 0.5 * regime:.2f}"
            rows.append((START + c * 3_600_000, f"engine-{u:03d}", values, settings))
    rows.sort(key=lambda r: (r[0], r[1]))
    seq: dict = {}
    for t, arm, values, settings in rows:
        for ch, v in zip(("t50", "p30", "w31"), values):
            seq[arm] = seq.get(arm, -1) + 1
            lines.append(f"{arm},OTHER,{ch},{v:.4f},u,{t},gw-01,{profile['plant_id']},{seq[arm]},{settings}")
    with gzip.open(directory / "readings.csv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    if truncated:
        (directory / "end_rul.csv").write_text("arm_id,rul_samples\n" + "".join(f"{a},{r}\n" for a, r in ends))
    (directory / "profile.json").write_text(json.dumps(profile))
    (directory / "meta.json").write_text(json.dumps({"plant_id": profile["plant_id"], "source": "synthetic", "arms": units}))
    return directory
