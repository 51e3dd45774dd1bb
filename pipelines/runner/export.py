"""Atomic, versioned export: SavedModel + `model.keras` + `metadata.json`.

Everything is written into a hidden staging folder beside the versions and
renamed to `<task>/<version>/` only when complete, so a crash never leaves a
half-written version behind.
"""

import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from pipelines.runner.layout import Layout
from recurrent.errors import UserInputError
from tasks.base import Evaluation, Prepared, Task, TaskConfig

LIBRARIES = (
    "tensorflow",
    "keras",
    "tensorflow-datasets",
    "numpy",
    "pandas",
    "scikit-learn",
)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_saved_model(
    task: Task, model: keras.Model, prepared: Prepared, path: Path
) -> None:
    """Writes the task's endpoints (raw inputs in, readable outputs out) as a SavedModel."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for asset in prepared.assets.values():
        if isinstance(asset, keras.layers.Layer):
            archive.track(asset)
    for name, (function, signature) in task.endpoints(model, prepared).items():
        archive.add_endpoint(name, function, input_signature=signature)
    archive.write_out(str(path), verbose=False)


def export(
    task: Task,
    model: keras.Model,
    prepared: Prepared,
    config: TaskConfig,
    evaluation: Evaluation,
    layout: Layout,
    data: str,
    run_dir: Path | None = None,
    figures: dict[str, bytes] | None = None,
) -> Path:
    """Exports a trained model as the next version; returns its folder.

    `figures` (PNG bytes by name) are saved beside the model as `<name>.png`.
    """
    layout.task_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incomplete-", dir=layout.task_dir))
    try:
        write_saved_model(task, model, prepared, staging)
        model.save(staging / "model.keras")
        for name, png in (figures or {}).items():
            (staging / f"{name}.png").write_bytes(png)
        metadata = {
            "task": task.name,
            "created": datetime.datetime.now(datetime.UTC).isoformat(
                timespec="seconds"
            ),
            "data": data,
            "data_fingerprint": prepared.fingerprint,
            "seed": config.seed,
            "config": config.to_dict(),
            "metrics": evaluation.metrics,
            "baselines": evaluation.baselines,
            "endpoints": sorted(task.endpoints(model, prepared)),
            "assets": {
                name: value
                for name, value in prepared.assets.items()
                if _is_json(value)
            },
            "figures": sorted(f"{name}.png" for name in figures or {}),
            "run": str(run_dir) if run_dir else None,
            "versions": library_versions(),
        }
        staging.chmod(0o755)  # readable by a model server running as another user
        return _publish(staging, layout, metadata)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _publish(staging: Path, layout: Layout, metadata: dict) -> Path:
    while True:
        version = max(layout.versions(), default=0) + 1
        metadata["version"] = version
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2))
        target = layout.task_dir / str(version)
        try:
            os.rename(staging, target)
            return target
        except OSError:
            if not target.exists():
                raise  # not a lost race for the version number


def _is_json(value) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


def read_metadata(path: Path) -> dict:
    """The metadata.json of an export, checking the folder holds a SavedModel."""
    if not (path / "saved_model.pb").is_file():
        raise UserInputError(
            f"no SavedModel at {str(path)!r}; pass an export folder to --model"
        )
    metadata_file = path / "metadata.json"
    return json.loads(metadata_file.read_text()) if metadata_file.is_file() else {}


def load_export(path: Path):
    """Loads an exported SavedModel and its metadata."""
    metadata = read_metadata(path)
    return tf.saved_model.load(str(path)), metadata
