"""FactoryGuard features (docs/factoryguard-features.md), the training-side implementation.

Two paths over the same definitions:

* ``features_at_heads(readings, points)`` — the reference. Replays readings one by one in arrival
  order, applies the lateness rule, keeps per-(arm, sensor, bucket) n / sum / sum of squares in
  exact arithmetic (every double is a multiple of 2**-1074, so sums are kept as integers scaled by
  2**1074 and squares by 2**2148) and evaluates the 42 features at an arm's head on request. The
  values are the spec's exact real-number definitions, correctly rounded once at the end (the EMA
  uses ``math.fsum``). Standard library only, so the parity CLI runs on a bare ``python3``.
* ``features_fast(readings, heads=None)`` in ``fast_features.py`` (re-exported here) — vectorised
  numpy/pandas path used for training; a test holds it to the reference within 1e-9.

CLI (spawned by the TypeScript parity test; needs only the standard library)::

    python3 models/maintenance/features.py --readings R.jsonl --points P.json --out O.json

``--readings``: JSON Lines, one reading per non-empty line, at least
``{"arm_id": str, "sensor": "VIBRATION"|"TEMPERATURE"|"PRESSURE", "value": number,
"event_time": integer epoch ms}`` (other keys are ignored). Row order is arrival order; a reading's
index is its 0-based position among the non-empty lines.

``--points``: a JSON list of ``{"arm_id": str, "after": int}``: evaluate ``arm_id`` at its head
after the readings with index ``0..after`` (inclusive) have been processed. Any order; ``after``
may name a reading of another arm. Without ``--points``, one point per reading: that reading's arm,
after that reading.

``--out``: a JSON list, one entry per point, in the points' order:
``{"arm_id": str, "after": int, "head_bucket": int|null, "features": {name: number|null}}`` with
``features`` keyed by ``FEATURE_NAMES`` in spec order; ``null`` stands for NaN; ``head_bucket`` is
``null`` (and every feature ``null``) when the arm has no accepted reading yet. Strict JSON,
floats written with ``repr`` (round-trip exact). Exit status 2 on malformed input, with a message
naming the line.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

BUCKET_MS = 60_000
LATENESS_BUCKETS = 5
RING_BUCKETS = 720
SENSORS = ("VIBRATION", "TEMPERATURE", "PRESSURE")
WINDOWS = (("1h", 60), ("6h", 360), ("12h", 720))
EMA_TAU_MS = (("1h", 3_600_000), ("6h", 21_600_000), ("12h", 43_200_000))
PER_SENSOR = (
    "mean_1h", "mean_6h", "mean_12h", "std_1h", "std_6h", "std_12h", "ema_1h", "ema_6h", "ema_12h",
    "last", "lag1", "lag2", "trend_1h_12h", "std_ratio_1h_12h",
)
FEATURE_NAMES = tuple(f"{s.lower()}_{f}" for s in SENSORS for f in PER_SENSOR)
assert len(FEATURE_NAMES) == 42

NAN = float("nan")
_SCALE1 = 1 << 1074  # value * 2**1074 is an integer for every finite double
_SCALE2 = 1 << 2148


def bucket_of(event_time: int) -> int:
    return event_time // BUCKET_MS


def ema_weight(head: int, bucket: int, tau_ms: int) -> float:
    """exp(-(H - b) * 60 s / tau), written as the stream writes it."""
    return math.exp(-(head - bucket) * BUCKET_MS / tau_ms)


def _scaled(value: float) -> tuple[int, int]:
    """(value * 2**1074, value**2 * 2**2148) as exact integers."""
    num, den = value.as_integer_ratio()  # den is a power of two <= 2**1074
    v = num * (_SCALE1 // den)
    return v, v * v


@dataclass
class _Bucket:
    n: int = 0
    s1: int = 0  # sum of values, scaled by 2**1074
    s2: int = 0  # sum of squared values, scaled by 2**2148

    def mean(self) -> float:
        return _ratio(self.s1, self.n * _SCALE1)


def _ratio(num: int, den: int) -> float:
    return num / den  # Python's int / int is correctly rounded


@dataclass
class ArmState:
    """One arm's state exactly as the spec describes it (plus exact sums)."""
    head: int | None = None
    buckets: dict[str, dict[int, _Bucket]] = field(default_factory=lambda: {s: {} for s in SENSORS})

    def accept(self, sensor: str, value: float, event_time: int) -> bool:
        """Applies one reading; False when it is rejected as too late."""
        b = bucket_of(event_time)
        if self.head is not None and b < self.head - LATENESS_BUCKETS:
            return False
        bucket = self.buckets[sensor].setdefault(b, _Bucket())
        v1, v2 = _scaled(value)
        bucket.n, bucket.s1, bucket.s2 = bucket.n + 1, bucket.s1 + v1, bucket.s2 + v2
        if self.head is None or b > self.head:
            self.head = b
            for per_sensor in self.buckets.values():
                for old in [bb for bb in per_sensor if bb <= self.head - RING_BUCKETS]:
                    del per_sensor[old]
        return True

    def features(self) -> dict[str, float]:
        out = dict.fromkeys(FEATURE_NAMES, NAN)
        if self.head is None:
            return out
        for sensor in SENSORS:
            out.update(_sensor_features(sensor.lower(), self.buckets[sensor], self.head))
        return out


def _sensor_features(prefix: str, buckets: Mapping[int, _Bucket], head: int) -> dict[str, float]:
    f: dict[str, float] = {}
    for label, length in WINDOWS:
        inside = [bk for b, bk in buckets.items() if head - length < b <= head]
        n = sum(bk.n for bk in inside)
        s1 = sum(bk.s1 for bk in inside)
        s2 = sum(bk.s2 for bk in inside)
        if n == 0:
            f[f"{prefix}_mean_{label}"] = f[f"{prefix}_std_{label}"] = NAN
            continue
        f[f"{prefix}_mean_{label}"] = _ratio(s1, n * _SCALE1)
        # Σx²/N − (Σx/N)² = (N·Σx² − (Σx)²) / N², exactly, in units of 2**-2148; never negative.
        variance = _ratio(n * s2 - s1 * s1, n * n * _SCALE2)
        f[f"{prefix}_std_{label}"] = math.sqrt(max(0.0, variance))
    ring = [(b, bk.mean()) for b, bk in buckets.items() if head - RING_BUCKETS < b <= head]
    for label, tau_ms in EMA_TAU_MS:
        weights = [ema_weight(head, b, tau_ms) for b, _ in ring]
        f[f"{prefix}_ema_{label}"] = (
            math.fsum(w * m for w, (_, m) in zip(weights, ring)) / math.fsum(weights) if ring else NAN
        )
    for name, lag in (("last", 0), ("lag1", 1), ("lag2", 2)):
        bk = buckets.get(head - lag)
        f[f"{prefix}_{name}"] = bk.mean() if bk is not None else NAN
    f[f"{prefix}_trend_1h_12h"] = f[f"{prefix}_mean_1h"] - f[f"{prefix}_mean_12h"]  # NaN propagates
    std_1h, std_12h = f[f"{prefix}_std_1h"], f[f"{prefix}_std_12h"]
    f[f"{prefix}_std_ratio_1h_12h"] = NAN if math.isnan(std_12h) or std_12h == 0 else std_1h / std_12h
    return f


Reading = tuple[str, str, float, int]  # arm_id, sensor, value, event_time


def iter_readings(readings) -> Iterator[Reading]:
    """Rows (arm_id, sensor, value, event_time) from a DataFrame, mappings or tuples, validated."""
    if hasattr(readings, "itertuples"):  # pandas DataFrame: select the columns by name
        rows: Iterable = readings[["arm_id", "sensor", "value", "event_time"]].itertuples(index=False)
    else:
        rows = readings
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            row = (row["arm_id"], row["sensor"], row["value"], row["event_time"])
        arm_id, sensor, value, event_time = row
        if sensor not in SENSORS:
            raise ValueError(f"reading {i}: sensor {sensor!r} is not one of {SENSORS}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"reading {i}: value {value} is not finite")
        if isinstance(event_time, float) and not event_time.is_integer():
            raise ValueError(f"reading {i}: event_time {event_time} is not whole milliseconds")
        yield str(arm_id), str(sensor), value, int(event_time)


def features_at_heads(readings, points: Sequence) -> list[dict]:
    """Reference: replay ``readings`` in order; evaluate each point ``(arm_id, after)`` (tuple or
    mapping) once readings ``0..after`` are in. Returns, in the points' order, dicts with arm_id,
    after, head_bucket (None if the arm has no accepted reading) and features (name -> float, NaN
    where undefined)."""
    wanted = [(p["arm_id"], int(p["after"])) if isinstance(p, Mapping) else (p[0], int(p[1])) for p in points]
    by_after: dict[int, list[int]] = {}
    for k, (_, after) in enumerate(wanted):
        if after < 0:
            raise ValueError(f"point {k}: after={after} is negative")
        by_after.setdefault(after, []).append(k)
    arms: dict[str, ArmState] = {}
    results: list[dict | None] = [None] * len(wanted)
    last = -1
    for i, (arm_id, sensor, value, event_time) in enumerate(iter_readings(readings)):
        last = i
        arms.setdefault(arm_id, ArmState()).accept(sensor, value, event_time)
        for k in by_after.pop(i, ()):
            state = arms.get(wanted[k][0], ArmState())
            results[k] = {"arm_id": wanted[k][0], "after": i, "head_bucket": state.head, "features": state.features()}
    if by_after:
        raise ValueError(f"points ask for after={min(by_after)} but there are only {last + 1} readings")
    return results  # type: ignore[return-value]


def acceptance(readings) -> list[bool]:
    """Per reading, in order: accepted (True) or rejected as too late (False)."""
    arms: dict[str, ArmState] = {}
    return [arms.setdefault(a, ArmState()).accept(s, v, t) for a, s, v, t in iter_readings(readings)]


def features_fast(readings, heads=None, slot_buckets: int = 10):
    """Vectorised path for training; see fast_features.features_fast."""
    from fast_features import features_fast as impl  # numpy/pandas only when asked for
    return impl(readings, heads=heads, slot_buckets=slot_buckets)


def _read_jsonl(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append({k: row[k] for k in ("arm_id", "sensor", "value", "event_time")})
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise ValueError(f"{path}:{lineno}: not a reading ({err})") from err
    return rows


def _jsonable(result: dict) -> dict:
    feats = {k: (None if math.isnan(v) else v) for k, v in result["features"].items()}
    return {**result, "features": feats}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readings", required=True, help="readings, JSON Lines, arrival order")
    ap.add_argument("--points", help="JSON list of {arm_id, after}; default: every reading")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    args = ap.parse_args(argv)
    try:
        readings = _read_jsonl(args.readings)
        if args.points:
            with open(args.points, encoding="utf-8") as fh:
                points = json.load(fh)
            if not isinstance(points, list):
                raise ValueError(f"{args.points}: expected a JSON list of {{arm_id, after}}")
        else:
            points = [{"arm_id": r["arm_id"], "after": i} for i, r in enumerate(readings)]
        results = features_at_heads(readings, points)
    except (ValueError, KeyError, TypeError) as err:
        print(f"features.py: {err}", file=sys.stderr)
        return 2
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump([_jsonable(r) for r in results], fh, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
