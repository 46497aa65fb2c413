"""FactoryGuard features (docs/factoryguard-features.md), the training-side implementation.

The spec is per channel: each channel of a plant profile (connectors/plants/*.json,
docs/plant-profiles.md) gets the same features over the profile's windows and EMAs, named
``<channel>_<feature>``. ``FeatureSpec()`` is the simulator's spec (3 channels, 60 s buckets,
1/6/12 h), whose 42 names the committed model uses (``FEATURE_NAMES``).

Two paths over the same definitions:

* ``features_at_heads(readings, points, spec, regimes)`` — the reference. Replays readings one by
  one in arrival order, applies the lateness rule, keeps per-(arm, channel, bucket) n / sum / sum
  of squares in exact arithmetic (every double is a multiple of 2**-1074, so sums are kept as
  integers scaled by 2**1074 and squares by 2**2148) and evaluates the features at an arm's head
  on request. The values are the spec's exact real-number definitions, correctly rounded once at
  the end (the EMA uses ``math.fsum``). With ``regimes`` (regimes.py) each value is first
  normalised within the regime of the reading's operating settings. Standard library only, so the
  parity CLI runs on a bare ``python3``.
* ``features_fast(readings, heads=None, spec=...)`` in ``fast_features.py`` (re-exported here) —
  vectorised numpy/pandas path used for training; a test holds it to the reference within 1e-9.

CLI (spawned by the TypeScript parity test; needs only the standard library)::

    python3 models/maintenance/features.py --readings R.jsonl --points P.json --out O.json \\
        [--spec PROFILE.json [--regimes REGIMES.json]]

``--readings``: JSON Lines, one reading per non-empty line, at least ``{"arm_id": str, "sensor":
str, "value": number, "event_time": integer epoch ms}``, optionally ``"channel"`` (the profile
channel; null or absent means ``sensor.lower()``) and ``"settings"`` (list of numbers: the
operating settings, needed with ``--regimes``); other keys are ignored. Row order is arrival
order; a reading's index is its 0-based position among the non-empty lines.

``--points``: a JSON list of ``{"arm_id": str, "after": int}``: evaluate ``arm_id`` at its head
after the readings with index ``0..after`` (inclusive) have been processed. Any order; ``after``
may name a reading of another arm. Without ``--points``, one point per reading: that reading's arm,
after that reading.

``--spec``: a plant profile; its ``channels`` and ``features`` block define the spec (default: the
simulator's). ``--regimes``: the trainer's regimes.json (contract in regimes.py).

``--out``: a JSON list, one entry per point, in the points' order:
``{"arm_id": str, "after": int, "head_bucket": int|null, "features": {name: number|null}}`` with
``features`` keyed by the spec's feature names in order; ``null`` stands for NaN; ``head_bucket``
is ``null`` (and every feature ``null``) when the arm has no accepted reading yet. Strict JSON,
floats written with ``repr`` (round-trip exact). Exit status 2 on malformed input, with a message
naming the line.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

if __name__ == "__main__":  # python3 -I (the parity test) leaves the script's folder off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from regimes import Regimes  # noqa: E402


@dataclass(frozen=True)
class FeatureSpec:
    """Which features, per channel: the ``channels`` and ``features`` of a plant profile."""
    channels: tuple[str, ...] = ("vibration", "temperature", "pressure")
    bucket_ms: int = 60_000
    lateness_buckets: int = 5
    windows: tuple[tuple[str, int], ...] = (("1h", 60), ("6h", 360), ("12h", 720))  # (label, buckets), ascending
    ema: tuple[tuple[str, int], ...] = (("1h", 3_600_000), ("6h", 21_600_000), ("12h", 43_200_000))  # (label, tau ms)

    @classmethod
    def from_profile(cls, profile: Mapping) -> "FeatureSpec":
        f = profile["features"]
        return cls(channels=tuple(c["name"] for c in profile["channels"]), bucket_ms=int(f["bucket_ms"]),
                   lateness_buckets=int(f["lateness_buckets"]),
                   windows=tuple((w["label"], int(w["buckets"])) for w in f["windows"]),
                   ema=tuple((e["label"], int(e["tau_ms"])) for e in f.get("ema", [])))

    @property
    def ring_buckets(self) -> int:
        """Buckets kept per channel: the longest window (the EMAs run over it too)."""
        return self.windows[-1][1]

    @property
    def per_channel(self) -> tuple[str, ...]:
        short, long = self.windows[0][0], self.windows[-1][0]
        return (*(f"mean_{w}" for w, _ in self.windows), *(f"std_{w}" for w, _ in self.windows),
                *(f"ema_{e}" for e, _ in self.ema), "last", "lag1", "lag2", f"trend_{short}_{long}", f"std_ratio_{short}_{long}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f"{c}_{f}" for c in self.channels for f in self.per_channel)

    def as_json(self) -> dict:
        return {"channels": list(self.channels), "bucket_ms": self.bucket_ms, "lateness_buckets": self.lateness_buckets,
                "ring_buckets": self.ring_buckets, "windows": [{"label": l, "buckets": b} for l, b in self.windows],
                "ema": [{"label": l, "tau_ms": t} for l, t in self.ema]}


DEFAULT_SPEC = FeatureSpec()
# The simulator's spec as constants (export.py and the committed model's metadata use them).
BUCKET_MS = DEFAULT_SPEC.bucket_ms
LATENESS_BUCKETS = DEFAULT_SPEC.lateness_buckets
RING_BUCKETS = DEFAULT_SPEC.ring_buckets
SENSORS = ("VIBRATION", "TEMPERATURE", "PRESSURE")
WINDOWS = DEFAULT_SPEC.windows
EMA_TAU_MS = DEFAULT_SPEC.ema
PER_SENSOR = DEFAULT_SPEC.per_channel
FEATURE_NAMES = DEFAULT_SPEC.feature_names
assert len(FEATURE_NAMES) == 42

NAN = float("nan")
_SCALE1 = 1 << 1074  # value * 2**1074 is an integer for every finite double
_SCALE2 = 1 << 2148


def bucket_of(event_time: int, bucket_ms: int = BUCKET_MS) -> int:
    return event_time // bucket_ms


def ema_weight(head: int, bucket: int, tau_ms: int, bucket_ms: int = BUCKET_MS) -> float:
    """exp(-(H - b) * W / tau), written as the stream writes it."""
    return math.exp(-(head - bucket) * bucket_ms / tau_ms)


def _scaled(value: float) -> tuple[int, int]:
    """(value * 2**1074, value**2 * 2**2148) as exact integers."""
    num, den = value.as_integer_ratio()  # den is a power of two <= 2**1074
    v = num * (_SCALE1 // den)
    return v, v * v


class _Bucket:
    __slots__ = ("n", "s1", "s2")

    def __init__(self) -> None:
        self.n = 0
        self.s1 = 0  # sum of values, scaled by 2**1074
        self.s2 = 0  # sum of squared values, scaled by 2**2148

    def mean(self) -> float:
        return _ratio(self.s1, self.n * _SCALE1)


def _ratio(num: int, den: int) -> float:
    return num / den  # Python's int / int is correctly rounded


class ArmState:
    """One arm's state exactly as the spec describes it (plus exact sums), per channel."""

    def __init__(self, spec: FeatureSpec = DEFAULT_SPEC) -> None:
        self.spec = spec
        self.head: int | None = None
        self.buckets: dict[str, dict[int, _Bucket]] = {c: {} for c in spec.channels}

    def accept(self, channel: str, value: float, event_time: int) -> bool:
        """Applies one reading; False when it is rejected as too late."""
        b = bucket_of(event_time, self.spec.bucket_ms)
        if self.head is not None and b < self.head - self.spec.lateness_buckets:
            return False
        bucket = self.buckets[channel].setdefault(b, _Bucket())
        v1, v2 = _scaled(value)
        bucket.n, bucket.s1, bucket.s2 = bucket.n + 1, bucket.s1 + v1, bucket.s2 + v2
        if self.head is None or b > self.head:
            self.head = b
            for per_channel in self.buckets.values():
                for old in [bb for bb in per_channel if bb <= self.head - self.spec.ring_buckets]:
                    del per_channel[old]
        return True

    def features(self) -> dict[str, float]:
        out = dict.fromkeys(self.spec.feature_names, NAN)
        if self.head is None:
            return out
        for channel in self.spec.channels:
            out.update(_channel_features(self.spec, channel, self.buckets[channel], self.head))
        return out


def _channel_features(spec: FeatureSpec, prefix: str, buckets: Mapping[int, _Bucket], head: int) -> dict[str, float]:
    f: dict[str, float] = {}
    for label, length in spec.windows:
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
    ring = [(b, bk.mean()) for b, bk in buckets.items() if head - spec.ring_buckets < b <= head]
    for label, tau_ms in spec.ema:
        weights = [ema_weight(head, b, tau_ms, spec.bucket_ms) for b, _ in ring]
        f[f"{prefix}_ema_{label}"] = (
            math.fsum(w * m for w, (_, m) in zip(weights, ring)) / math.fsum(weights) if ring else NAN
        )
    for name, lag in (("last", 0), ("lag1", 1), ("lag2", 2)):
        bk = buckets.get(head - lag)
        f[f"{prefix}_{name}"] = bk.mean() if bk is not None else NAN
    short, long = spec.windows[0][0], spec.windows[-1][0]
    f[f"{prefix}_trend_{short}_{long}"] = f[f"{prefix}_mean_{short}"] - f[f"{prefix}_mean_{long}"]  # NaN propagates
    std_s, std_l = f[f"{prefix}_std_{short}"], f[f"{prefix}_std_{long}"]
    f[f"{prefix}_std_ratio_{short}_{long}"] = NAN if math.isnan(std_l) or std_l == 0 else std_s / std_l
    return f


Reading = tuple[str, str, float, int]  # arm_id, channel, value, event_time (value normalised when regimes are given)


def channel_of(sensor, channel=None) -> str:
    """The profile channel of a reading: ``channel`` when given, else the legacy ``sensor.lower()``."""
    return str(channel) if channel is not None and channel == channel else str(sensor).lower()


def iter_readings(readings, spec: FeatureSpec = DEFAULT_SPEC, regimes: Regimes | None = None) -> Iterator[Reading]:
    """Rows (arm_id, channel, value, event_time) from a DataFrame, mappings or tuples
    ``(arm_id, sensor or channel, value, event_time[, settings])``, validated; values normalised
    by ``regimes`` when given."""
    if hasattr(readings, "itertuples"):  # pandas DataFrame: select the columns by name
        cols = [c for c in ("arm_id", "sensor", "channel", "value", "event_time", "settings") if c in readings]
        rows: Iterable = readings[cols].to_dict("records")
    else:
        rows = readings
    for i, row in enumerate(rows):
        if isinstance(row, Mapping):
            arm_id, value, event_time, settings = row["arm_id"], row["value"], row["event_time"], row.get("settings")
            sensor, channel = row.get("sensor"), channel_of(row.get("sensor"), row.get("channel"))
        else:
            arm_id, sensor, value, event_time, *rest = row
            settings = rest[0] if rest else None
            channel = sensor if sensor in spec.channels else channel_of(sensor)
        if channel not in spec.channels:
            raise ValueError(f"reading {i}: sensor {sensor!r} / channel {channel!r} is not one of the spec's channels {spec.channels}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"reading {i}: value {value} is not finite")
        if isinstance(event_time, float) and not event_time.is_integer():
            raise ValueError(f"reading {i}: event_time {event_time} is not whole milliseconds")
        if regimes is not None:
            try:
                value = regimes.apply(channel, value, settings)
            except ValueError as err:
                raise ValueError(f"reading {i}: {err}") from err
        yield str(arm_id), channel, value, int(event_time)


def features_at_heads(readings, points: Sequence, spec: FeatureSpec = DEFAULT_SPEC, regimes: Regimes | None = None) -> list[dict]:
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
    for i, (arm_id, channel, value, event_time) in enumerate(iter_readings(readings, spec, regimes)):
        last = i
        arms.setdefault(arm_id, ArmState(spec)).accept(channel, value, event_time)
        for k in by_after.pop(i, ()):
            state = arms.get(wanted[k][0], ArmState(spec))
            results[k] = {"arm_id": wanted[k][0], "after": i, "head_bucket": state.head, "features": state.features()}
    if by_after:
        raise ValueError(f"points ask for after={min(by_after)} but there are only {last + 1} readings")
    return results  # type: ignore[return-value]


def acceptance(readings, spec: FeatureSpec = DEFAULT_SPEC) -> list[bool]:
    """Per reading, in order: accepted (True) or rejected as too late (False)."""
    arms: dict[str, ArmState] = {}
    return [arms.setdefault(a, ArmState(spec)).accept(c, v, t) for a, c, v, t in iter_readings(readings, spec)]


def features_fast(readings, heads=None, slot_buckets: int = 10, spec: FeatureSpec = DEFAULT_SPEC):
    """Vectorised path for training; see fast_features.features_fast."""
    from fast_features import features_fast as impl  # numpy/pandas only when asked for
    return impl(readings, heads=heads, slot_buckets=slot_buckets, spec=spec)


def load_spec(profile_path: str) -> FeatureSpec:
    with open(profile_path, encoding="utf-8") as fh:
        return FeatureSpec.from_profile(json.load(fh))


def _read_jsonl(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                reading = {k: row[k] for k in ("arm_id", "sensor", "value", "event_time")}
                reading.update({k: row[k] for k in ("channel", "settings") if row.get(k) is not None})
                rows.append(reading)
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
    ap.add_argument("--spec", help="plant profile (JSON) whose channels and features block define the spec; default: the simulator's")
    ap.add_argument("--regimes", help="regimes.json: normalise each value within its operating regime first")
    ap.add_argument("--out", required=True, help="where to write the JSON result")
    args = ap.parse_args(argv)
    try:
        spec = load_spec(args.spec) if args.spec else DEFAULT_SPEC
        regimes = Regimes.load(args.regimes) if args.regimes else None
        readings = _read_jsonl(args.readings)
        if args.points:
            with open(args.points, encoding="utf-8") as fh:
                points = json.load(fh)
            if not isinstance(points, list):
                raise ValueError(f"{args.points}: expected a JSON list of {{arm_id, after}}")
        else:
            points = [{"arm_id": r["arm_id"], "after": i} for i, r in enumerate(readings)]
        results = features_at_heads(readings, points, spec, regimes)
    except (ValueError, KeyError, TypeError, OSError) as err:
        print(f"features.py: {err}", file=sys.stderr)
        return 2
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump([_jsonable(r) for r in results], fh, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
