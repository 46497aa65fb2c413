"""The canary hash of streams/runtime/rollout/rollout-state.ts (inCanary), for batch scoring (churn):
a key is in the canary iff u32be(sha256(salt + ':' + key)[0:4]) / 2**32 < fraction. Both sides are
checked against streams/runtime/rollout/fixtures/canary-keys.json (made by make_canary_fixture.py)."""
import hashlib


def canary_unit(salt: str, key: str) -> float:
    """The key's position in [0, 1): the first four bytes of the digest, big-endian, over 2**32."""
    digest = hashlib.sha256(f"{salt}:{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def in_canary(salt: str, key: str, fraction: float) -> bool:
    return canary_unit(salt, key) < fraction
