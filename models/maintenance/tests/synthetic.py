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
