"""Writes the canary-hash fixture both implementations are tested on: 1,000 arm ids and 200 other keys
(user ids, camera ids, non-ASCII) under two salts, with their u32 prefix and membership at 10 %.
Run: python models/common/make_canary_fixture.py"""
import json
from pathlib import Path

from canary import canary_unit

OUT = Path(__file__).resolve().parents[2] / "streams" / "runtime" / "rollout" / "fixtures" / "canary-keys.json"

keys = [f"arm-{i:03d}" for i in range(1000)] + [f"user-{i}" for i in range(100)] + [f"cam-{i}" for i in range(90)] + ["", "ä-line-7", "東京-1", "a:b", "key with spaces", " ", "arm-001 ", "ARM-001", "0", "-"]
cases = []
for salt, salted in [("7", keys), ("12", keys[::6])]:
    for key in salted:
        unit = canary_unit(salt, key)
        cases.append([salt, key, int(unit * 2**32), unit < 0.1])
lines = ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases)
OUT.write_text(f'{{"fraction": 0.1, "columns": ["salt", "key", "u32", "in_10pct"], "cases": [\n{lines}\n]}}\n', encoding="utf-8")
print(f"{len(cases)} cases -> {OUT}")
