"""`--init-from`: a run that starts from another run's or export's weights and
fitted preprocessing (fine-tuning).

The source is a run folder (run.json, checkpoint.keras), a run name of the task
under `--output`, or an export folder (saved_model.pb, model.keras,
metadata.json); either holds its preprocessing in assets.json. The new run
prepares its data with the source's `Task.inherited_assets`, builds its model,
checks that every weight matches the source's in name and shape, and copies
them in before the first epoch.
"""

import dataclasses
import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import keras

from pipelines.runner import assets as stored
from pipelines.runner.layout import RUN_NAME, Layout, checkpoint
from recurrent.errors import UserInputError
from tasks.base import Prepared, Task, TaskConfig

ASSETS = "assets.json"
RUN_FILES = ("run.json", "checkpoint.keras")
EXPORT_FILES = ("saved_model.pb", "model.keras", "metadata.json")
# Settings of training alone: they never change the model's weights.
TRAINING_SETTINGS = {field.name for field in dataclasses.fields(TaskConfig)}


@dataclasses.dataclass(frozen=True)
class Source:
    """A run or an export to start from.

    Attributes:
        path: its folder, absolute.
        kind: "run" or "export".
        model_file: the `.keras` file of its weights.
        config: its resolved config, as JSON reads it back.
        assets: its fitted preprocessing, deserialised.
        fingerprint: SHA-256 of `model_file`.
    """

    path: Path
    kind: str
    model_file: Path
    config: dict[str, Any]
    assets: dict[str, Any] = dataclasses.field(repr=False)
    fingerprint: str

    @property
    def record(self) -> dict[str, str]:
        """What run.json, metadata.json and the run's name keep of it."""
        return {
            "path": str(self.path),
            "kind": self.kind,
            "fingerprint": self.fingerprint,
        }

    def inherited(self, task: Task) -> dict[str, Any]:
        """The preprocessing `task.prepare` takes from the source."""
        return {name: self.assets[name] for name in task.inherited_assets}


def prepare(
    task: Task, config: TaskConfig, data: str, inherited: dict | None = None
) -> Prepared:
    """`task.prepare`, with the inherited preprocessing when there is some."""
    if inherited is None:
        return task.prepare(config, data)
    return task.prepare(config, data, inherited=inherited)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _locate(task: Task, value: str, layout: Layout) -> Path:
    path = Path(value).expanduser()
    named = layout.runs / value
    if not path.exists() and RUN_NAME.fullmatch(value) and named.is_dir():
        path = named
    if not path.is_dir():
        raise UserInputError(
            f"--init-from {value[:200]!r} is neither a folder nor a run of {task.name} "
            f"under {layout.runs}; pass a run folder (with run.json and "
            f"checkpoint.keras), a run name, or an export folder "
            f"({layout.task_dir}/<version>)"
        )
    return path.resolve()


def _read_record(file: Path) -> dict:
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise UserInputError(
            f"{file} is damaged ({error}); pass another run or export to --init-from"
        ) from None
    return record if isinstance(record, dict) else {}


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _missing_assets_fix(task: Task, path: Path, kind: str, record: dict) -> str:
    command = f"python -m pipelines.{task.name} export --run"
    if kind == "run":
        return f"re-export it (`{command} {path.name}` records them) or train it again"
    run = Path(record["run"]).name if record.get("run") else "NAME"
    return f"re-export its run (`{command} {run}`) and pass the new export, or retrain"


def resolve(task: Task, value: str, layout: Layout) -> Source:
    """The run or export `value` names, checked to be one of `task` that
    recorded its preprocessing; one clear error otherwise."""
    if task.inherited_assets is None:
        raise UserInputError(
            f"{task.name} cannot start from another run; train without --init-from"
        )
    path = _locate(task, value, layout)
    if all((path / name).is_file() for name in RUN_FILES):
        kind, model_file = "run", checkpoint(path)
        record = _read_record(path / "run.json")
    elif all((path / name).is_file() for name in EXPORT_FILES):
        kind, model_file = "export", path / "model.keras"
        record = _read_record(path / "metadata.json")
    else:
        raise UserInputError(
            f"--init-from {str(path)!r} is neither a run (run.json and "
            "checkpoint.keras) nor an export (saved_model.pb, model.keras, "
            f"metadata.json); pass a run folder or run name of {task.name}, or one "
            f"of {layout.task_dir}/<version>"
        )
    if record.get("task") != task.name:
        raise UserInputError(
            f"--init-from {str(path)!r} is {_article(kind)} of {record.get('task')!r}, not "
            f"{task.name!r}; pass a run or export of {task.name}"
        )
    assets_file = path / ASSETS
    if not assets_file.is_file():
        raise UserInputError(
            f"{path} has no {ASSETS} (it was made before runs and exports recorded "
            f"their preprocessing); {_missing_assets_fix(task, path, kind, record)}"
        )
    try:
        assets = stored.read(assets_file)
    except (ValueError, KeyError, TypeError) as error:
        raise UserInputError(
            f"{assets_file} is damaged ({error}); "
            f"{_missing_assets_fix(task, path, kind, record)}"
        ) from None
    missing = [name for name in task.inherited_assets if name not in assets]
    if missing:
        raise UserInputError(
            f"{assets_file} lacks {', '.join(missing)}; "
            f"{_missing_assets_fix(task, path, kind, record)}"
        )
    return Source(
        path=path,
        kind=kind,
        model_file=model_file,
        config=record.get("config") or {},
        assets=assets,
        fingerprint=_file_digest(model_file),
    )


def own_inherited(task: Task, folder: Path, record: dict) -> dict | None:
    """The preprocessing a run or export that started from another (its
    `record` names one under "init_from") inherited, read from its own
    assets.json, so re-exporting or evaluating it prepares data as its training
    did; None for one trained from scratch."""
    assets_file = folder / ASSETS
    if not record.get("init_from") or task.inherited_assets is None:
        return None
    if not assets_file.is_file():
        return None
    assets = stored.read(assets_file)
    return {name: assets[name] for name in task.inherited_assets if name in assets}


def check_preprocessing(task: Task, source: Source, prepared: Prepared) -> None:
    """Refuses a run whose prepared preprocessing is not the source's."""
    for name, value in source.inherited(task).items():
        if name not in prepared.assets or not stored.same(value, prepared.assets[name]):
            raise UserInputError(
                f"the {name} prepared for this run differs from that of "
                f"{source.path}, which a run started from it must reuse; train "
                "without --init-from"
            )


def _plain(path: str) -> str:
    """A weight's path without the counters Keras adds to repeated layer names."""
    return re.sub(r"_\d+(?=/|$)", "", path)


def _first_difference(model: keras.Model, source_model: keras.Model) -> str | None:
    pairs = itertools.zip_longest(model.weights, source_model.weights)
    for number, (mine, theirs) in enumerate(pairs, start=1):
        if mine is None:
            return (
                f"the source has {len(source_model.weights)} weights, this model "
                f"{len(model.weights)} (the first one more: {theirs.path})"
            )
        if theirs is None:
            return (
                f"this model has {len(model.weights)} weights, the source "
                f"{len(source_model.weights)} (the first one more: {mine.path})"
            )
        if _plain(mine.path) != _plain(theirs.path):
            return (
                f"weight {number} is {mine.path} here but {theirs.path} in the source"
            )
        if tuple(mine.shape) != tuple(theirs.shape):
            return (
                f"weight {mine.path} has shape {tuple(mine.shape)} here but "
                f"{tuple(theirs.shape)} in the source"
            )
    return None


def _setting(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def differing_settings(source: dict, config: TaskConfig) -> dict[str, tuple]:
    """Model settings whose value here differs from the source's: name ->
    (here, source)."""
    here = json.loads(json.dumps(config.to_dict()))
    return {
        name: (value, source[name])
        for name, value in here.items()
        if name not in TRAINING_SETTINGS and name in source and source[name] != value
    }


def compatible_model(source: Source, model: keras.Model, config: TaskConfig):
    """The source's model, checked to have `model`'s weights (names and
    shapes); a clear error naming the first difference and the settings that
    differ otherwise."""
    source_model = keras.saving.load_model(source.model_file, compile=False)
    difference = _first_difference(model, source_model)
    if difference is None:
        return source_model
    settings = differing_settings(source.config, config)
    if settings:
        listed = ", ".join(
            f"{name}={_setting(here)} (the source has {name}={_setting(there)})"
            for name, (here, there) in settings.items()
        )
        wanted = " ".join(
            f"{name}={_setting(there)}" for name, (_, there) in settings.items()
        )
        fix = (
            f"settings that differ: {listed}; drop the --set or --config that "
            f"changes them (the source's: --set {wanted}), or train without "
            "--init-from"
        )
    else:
        fix = (
            "no model setting differs from the source's, so the model code changed "
            "since it was trained; train without --init-from"
        )
    raise UserInputError(
        f"this model cannot start from {source.path}: {difference}; {fix}"
    )


def initialise(
    task: Task, source: Source, model: keras.Model, source_model: keras.Model
) -> None:
    """Copies the source's weights into `model` (checked by `compatible_model`)."""
    for variable, value in zip(model.weights, source_model.weights, strict=True):
        variable.assign(value)
    inherited = "".join(f", {name}" for name in task.inherited_assets)
    print(f"starting from the {source.kind} {source.path}: its weights{inherited}")
