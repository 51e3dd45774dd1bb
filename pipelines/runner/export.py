"""Atomic, versioned export: SavedModel + `model.keras` + `metadata.json` +
`assets.json` (the fitted preprocessing, for runs that start from the export).

Everything is written into a hidden staging folder beside the versions and
renamed to `<task>/<version>/` only when complete, so a crash never leaves a
half-written version behind. A staging folder is named after the process that
writes it (`.incomplete-<pid>-<random>`); the next export removes those whose
process is gone.
"""

import datetime
import importlib.metadata
import json
import math
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import keras
import tensorflow as tf

from pipelines.runner import assets as stored
from pipelines.runner.layout import Layout
from recurrent.errors import UserInputError
from tasks.base import Evaluation, Prepared, Task, TaskConfig

STAGING = ".incomplete-"
UNNAMED_STALE_AFTER = 3600  # seconds; staging folders of older versions name no process
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


def serving_functions(task: Task, model: keras.Model, prepared: Prepared) -> dict:
    """The task's endpoints over `model` as traced `tf.function`s, by name.

    Built and traced once per model and prepared data (cached in
    `prepared.serving`), so a command's predictors, figures and export share
    one trace of each endpoint.
    """
    cached = prepared.serving.get(id(model))
    if cached is None or cached[0] is not model:
        functions = {
            name: tf.function(function, input_signature=signature, autograph=False)
            for name, (function, signature) in task.endpoints(model, prepared).items()
        }
        for function in functions.values():
            function.get_concrete_function()  # traced now, once
        cached = prepared.serving[id(model)] = (model, functions)
    return cached[1]


def write_saved_model(
    task: Task, model: keras.Model, prepared: Prepared, path: Path
) -> None:
    """Writes the task's endpoints (raw inputs in, readable outputs out) as a SavedModel."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for asset in prepared.assets.values():
        if isinstance(asset, keras.layers.Layer):
            archive.track(asset)
    for name, function in serving_functions(task, model, prepared).items():
        archive.add_endpoint(name, function)
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
    samples: str | None = None,
) -> Path:
    """Exports a trained model as the next version; returns its folder.

    `figures` (PNG bytes by name) are saved beside the model as `<name>.png`,
    and `samples` (Markdown: a few validation predictions, as TensorBoard's
    text tab shows them) as `samples.md`.
    """
    layout.task_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(layout.task_dir)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=layout.task_dir)
    )
    try:
        write_saved_model(task, model, prepared, staging)
        model.save(staging / "model.keras")
        (staging / "assets.json").write_text(
            json.dumps(stored.to_json(prepared.assets), indent=2), encoding="utf-8"
        )
        for name, png in (figures or {}).items():
            (staging / f"{name}.png").write_bytes(png)
        if samples:
            (staging / "samples.md").write_text(samples + "\n", encoding="utf-8")
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
            "endpoints": sorted(serving_functions(task, model, prepared)),
            "assets": {
                name: value
                for name, value in prepared.assets.items()
                if _is_json(value)
            },
            "figures": sorted(f"{name}.png" for name in figures or {}),
            "samples": "samples.md" if samples else None,
            "run": str(run_dir) if run_dir else None,
            "init_from": _init_from(run_dir),
            "versions": library_versions(),
        }
        staging.chmod(0o755)  # readable by a model server running as another user
        return _publish(staging, layout, metadata)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _init_from(run_dir: Path | None) -> dict | None:
    """The source the run started from (`--init-from`), as its run.json says."""
    record = run_dir / "run.json" if run_dir else None
    if record is None or not record.is_file():
        return None
    return json.loads(record.read_text()).get("init_from")


def _publish(staging: Path, layout: Layout, metadata: dict) -> Path:
    while True:
        version = max(layout.versions(), default=0) + 1
        metadata["version"] = version
        (staging / "metadata.json").write_text(
            json.dumps(finite_or_null(metadata), indent=2, allow_nan=False)
        )
        target = layout.task_dir / str(version)
        try:
            os.rename(staging, target)
            return target
        except OSError:
            if not target.exists():
                raise  # not a lost race for the version number


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def remove_stale_staging(task_dir: Path) -> list[Path]:
    """Removes staging folders left by killed exports; returns what it removed.

    A folder whose writing process is alive is never touched.
    """
    removed = []
    for folder in task_dir.glob(f"{STAGING}*"):
        pid = folder.name.removeprefix(STAGING).partition("-")[0]
        if pid.isdigit():
            stale = not _process_alive(int(pid))
        else:
            stale = time.time() - folder.stat().st_mtime > UNNAMED_STALE_AFTER
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        print(f"removed {len(removed)} unfinished export(s) of killed processes")
    return removed


def finite_or_null(value):
    """`value` with NaN and infinities replaced by None (JSON null), recursively."""
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_json(value) -> bool:
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


def read_metadata(path: Path, task: str) -> dict:
    """The metadata.json of an export of `task`, checking the folder holds one."""
    metadata_file = path / "metadata.json"
    if not (path / "saved_model.pb").is_file() or not metadata_file.is_file():
        raise UserInputError(
            f"no export at {str(path)!r} (an export folder holds saved_model.pb and "
            f"metadata.json); pass one of saved_models/{task}/<version> to --model"
        )
    try:
        metadata = json.loads(metadata_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserInputError(
            f"{metadata_file} is damaged ({error}); re-export the run with "
            f"`python -m pipelines.{task} export`"
        ) from None
    if metadata.get("task") != task:
        raise UserInputError(
            f"{str(path)!r} is an export of {metadata.get('task')!r}, not {task!r}; "
            f"pass one of saved_models/{task}/<version> to --model"
        )
    return metadata


def load_export(path: Path, task: str):
    """Loads an exported SavedModel of `task` and its metadata."""
    metadata = read_metadata(path, task)
    return tf.saved_model.load(str(path)), metadata
