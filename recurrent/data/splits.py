"""Deterministic train/validation/test assignment by a hash of each example's key."""

import hashlib

SPLITS = ("train", "validation", "test")


def hash_split(key: str, validation: float = 0.1, test: float = 0.1) -> str:
    """Assigns `key` to "train", "validation" or "test", the same on every machine.

    The first 8 bytes of SHA-256 of the key, as a fraction of 2**64, are compared
    with the cumulative split fractions, so the assignment depends on the key
    alone: never on file order, Python's hash seed or the number of examples.
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    if point < 1.0 - validation - test:
        return "train"
    return "validation" if point < 1.0 - test else "test"
