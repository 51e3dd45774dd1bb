"""A cache of derived data (such as oracle labels) that is costly to recompute.

Entries are JSON files under `RECURRENT_CACHE_DIR` (by default
`~/.cache/recurrent-pipelines`), named by a digest of everything they were
computed from, so changed data never meets stale labels. Each file is written
whole or not at all; an unreadable entry is computed again.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The cache folder: `RECURRENT_CACHE_DIR`, else `~/.cache/recurrent-pipelines`."""
    configured = os.environ.get("RECURRENT_CACHE_DIR")
    return (
        Path(configured)
        if configured
        else Path.home() / ".cache" / "recurrent-pipelines"
    )


def digest(parts: Iterable[str]) -> str:
    """SHA-256 of the parts, each one delimited, as hex."""
    hashed = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8")
        hashed.update(len(encoded).to_bytes(8, "big") + encoded)
    return hashed.hexdigest()


def cached_json(kind: str, key: str, compute: Callable[[], Any]) -> tuple[Any, Path]:
    """The value cached under `kind/key`, or `compute()` written there.

    Returns:
        `(value, path)`: the value and the file that holds it.
    """
    path = cache_dir() / kind / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")), path
    except (OSError, ValueError):
        pass
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as file:
            json.dump(value, file)
        os.replace(file.name, path)
    except OSError as error:  # a read-only home still trains, uncached
        print(f"could not cache {kind} in {path.parent}: {error}")
    return value, path
