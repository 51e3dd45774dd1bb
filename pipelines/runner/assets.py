"""`assets.json`: a run's or an export's fitted preprocessing (vocabularies,
label names, scalers...), so another run can start from it (`--init-from`).

Each entry of `Prepared.assets` is stored under its name, tagged by kind: a
JSON value as it is (`{"json": value}`), a Keras object as
`keras.saving.serialize_keras_object` writes it (`{"keras": ...}`). A fitted
`TextVectorization` keeps its vocabulary in its config, so it reads back whole.
"""

import json
from pathlib import Path
from typing import Any

import keras

FORMAT = 1


def encode(value: Any) -> dict:
    """One asset as its tagged JSON form."""
    if hasattr(value, "get_config"):
        item = keras.saving.serialize_keras_object(value)
        if isinstance(value, keras.layers.TextVectorization):
            item["config"]["vocabulary"] = [str(t) for t in value.get_vocabulary()]
        return {"keras": item}
    try:
        return {"json": json.loads(json.dumps(value))}
    except (TypeError, ValueError):
        raise TypeError(
            f"an asset of type {type(value).__name__} is neither JSON nor a Keras "
            "object; keep data out of Prepared.assets"
        ) from None


def decode(item: dict) -> Any:
    """The asset of a tagged JSON form (`encode` reversed)."""
    if "keras" in item:
        return keras.saving.deserialize_keras_object(item["keras"])
    return item["json"]


def to_json(assets: dict[str, Any]) -> dict:
    """The document assets.json holds."""
    return {
        "format": FORMAT,
        "assets": {name: encode(value) for name, value in assets.items()},
    }


def from_json(document: dict) -> dict[str, Any]:
    return {name: decode(item) for name, item in document["assets"].items()}


def read(path: Path) -> dict[str, Any]:
    """The assets stored in `path`, deserialised."""
    return from_json(json.loads(path.read_text(encoding="utf-8")))


def comparable(value: Any) -> Any:
    """What two assets must share to be the same preprocessing: JSON values as
    JSON reads them back, Keras objects by config, their names aside."""
    item = encode(value)
    if "keras" in item:
        config = dict(item["keras"].get("config") or {})
        config.pop("name", None)
        return [item["keras"].get("class_name"), config]
    return item["json"]


def same(first: Any, second: Any) -> bool:
    return comparable(first) == comparable(second)
