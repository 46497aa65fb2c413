"""The Python canary hash gives the fixture's u32 and membership for every key and salt (the TS side,
streams/runtime/rollout/rollout-state.test.ts, checks the same file), and about the fraction."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from canary import canary_unit, in_canary  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[3] / "streams" / "runtime" / "rollout" / "fixtures" / "canary-keys.json"


def test_fixture_keys_hash_the_same():
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(doc["cases"]) > 1000
    for salt, key, u32, in_10pct in doc["cases"]:
        assert int(canary_unit(salt, key) * 2**32) == u32, (salt, key)
        assert in_canary(salt, key, doc["fraction"]) == in_10pct, (salt, key)


def test_fraction_and_salt():
    arms = [f"arm-{i:03d}" for i in range(1000)]
    hashed = [a for a in arms if in_canary("7", a, 0.1)]
    assert 70 < len(hashed) < 130
    assert set(hashed) != {a for a in arms if in_canary("8", a, 0.1)}, "another salt, another set"
    assert set(hashed) <= {a for a in arms if in_canary("7", a, 0.5)}, "a larger fraction keeps the keys already in"
