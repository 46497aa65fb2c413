"""A non-default plant for tests: five channels (one the simulator never had), hourly samples,
three windows, two EMAs and three operating settings in two regimes."""
import json

import numpy as np
import pandas as pd

from features import FeatureSpec
from regimes import Regimes

HOUR = 3_600_000
T0 = 1_700_000_000_000 // HOUR * HOUR
PROFILE = {
    "plant_id": "test-plant", "sample_interval_ms": HOUR,
    "channels": [{"name": n, "code": c, "unit": "u", "min": -1e9, "max": 1e9}
                 for n, c in (("t24", "a"), ("oil_temp", "b"), ("p30", "c"), ("nf", "d"), ("w31", "e"))],
    "operating_settings": [{"name": "alt"}, {"name": "mach"}, {"name": "tra"}],
    "label": {"source": "run_to_failure", "horizon_ms": 24 * HOUR},
    "features": {"bucket_ms": HOUR, "lateness_buckets": 2, "windows": [{"label": "3c", "buckets": 3}, {"label": "8c", "buckets": 8},
                                                                        {"label": "20c", "buckets": 20}],
                 "ema": [{"label": "5c", "tau_ms": 5 * HOUR}, {"label": "15c", "tau_ms": 15 * HOUR}], "regimes": {"k": 2}},
    "model": {"artifacts": "models/maintenance/plants/test-plant"},
}
SPEC = FeatureSpec.from_profile(PROFILE)
REGIMES = Regimes.from_json({
    "settings": ["alt", "mach", "tra"], "center": [20.0, 0.5, 80.0], "scale": [15.0, 0.3, 0.0],
    "centroids": [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]],
    "channels": {"t24": {"mean": [640.0, 600.0], "std": [2.0, 0.0]}, "oil_temp": {"mean": [80.0, 90.0], "std": [1.5, 3.0]},
                 "p30": {"mean": [550.0, 400.0], "std": [4.0, 5.0]}, "nf": {"mean": [2388.0, 2200.0], "std": [0.1, 0.2]}},
})  # w31 has no entry: left as it is; t24 has std 0 in regime 1: divided by 1


def plant_readings(seed: int, arms: int = 3, samples: int = 120) -> pd.DataFrame:
    """Event-time ordered readings with settings, dropouts, late rows and a missing channel."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(arms):
        t = 0
        while t < samples:
            t += 1 if rng.random() > 0.08 else int(rng.integers(2, 30))
            regime = int(rng.integers(0, 2))
            settings = [5.0 + 30 * regime + rng.normal(0, 1), 0.2 + 0.6 * regime + rng.normal(0, 0.01), 80.0]
            for c, (ch, level) in enumerate((("t24", 640), ("oil_temp", 85), ("p30", 500), ("nf", 2300), ("w31", 23))):
                if a == 2 and ch == "nf":
                    continue
                for _ in range(rng.choice([0, 1, 1, 1, 2])):
                    late = int(rng.integers(0, 4)) if rng.random() < 0.05 else 0
                    value = float(np.round(level + 40 * regime + rng.normal(0, 1 + t / 100), 3))
                    rows.append((f"eng-{a}", "OTHER", ch, value, T0 + (t - late) * HOUR + int(rng.integers(0, HOUR)), settings))
    frame = pd.DataFrame(rows, columns=["arm_id", "sensor", "channel", "value", "event_time", "settings"])
    return frame.sort_values("event_time", kind="stable").reset_index(drop=True)


def write_jsonl(path, frame: pd.DataFrame) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
