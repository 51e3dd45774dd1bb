"""Training with the callbacks every task gets: TensorBoard, best checkpoint,
crash backup, early stopping; gradients are clipped by the task's optimizer.

A run lives in its own folder, locked while one process trains it. If it is
killed, the same command resumes it from the last finished epoch, with the best
checkpoint and the early-stopping count as they were; a crash backup damaged by
a kill during its write falls back to the previous backup, then to the best
checkpoint. A finished run is reused rather than trained again. A loss that
turns NaN or infinite stops training with a clear message and no export.

A run may start from another run's or export's weights and preprocessing
(`--init-from`, `pipelines.runner.init_from`) instead of from scratch; which
source it started from is part of its name and of its run.json.
"""

import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import sys
from pathlib import Path

import keras

from pipelines.runner import assets as stored
from pipelines.runner import init_from
from pipelines.runner.backup import backup_epoch, repair_backup
from pipelines.runner.export import serving_functions
from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.locks import RunLock
from pipelines.runner.tensorboard import SampleSummaries, config_markdown
from recurrent.errors import UserInputError
from tasks.base import Prepared, Task, TaskConfig, batched

MONITOR = "val_loss"


@dataclasses.dataclass
class TrainResult:
    model: keras.Model
    prepared: Prepared
    run_dir: Path


def default_run_name(
    task: Task, config: TaskConfig, data: str, source: dict | None = None
) -> str:
    """Same task, data, config and source to start from (`Source.record`) give
    the same run, so a rerun resumes it."""
    identity = [task.name, data, config.to_dict()] + ([source] if source else [])
    text = json.dumps(identity, sort_keys=True)
    return "run-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def write_text(path: Path, text: str) -> None:
    """Writes a file whole or not at all (a temporary file, then a rename)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def write_json(path: Path, value) -> None:
    """Writes JSON whole or not at all."""
    write_text(path, json.dumps(value, indent=2))


def run_record(
    task: Task,
    config: TaskConfig,
    data: str,
    fingerprint: str,
    source: dict | None = None,
) -> dict:
    """What identifies a run, as run.json stores it (tuples read back as lists);
    `init_from` is the `Source.record` it started from, or None."""
    record = {
        "task": task.name,
        "data": data,
        "config": config.to_dict(),
        "fingerprint": fingerprint,
        "init_from": source,
    }
    return json.loads(json.dumps(record))


def in_memory_predictor(
    task: Task, model: keras.Model, prepared: Prepared, endpoint: str | None = None
):
    """A task endpoint (the serving one by default) over the live model, as the
    export will run it (the same trace: `serving_functions`)."""
    functions = serving_functions(task, model, prepared)
    return batched(functions[endpoint or task.serving_endpoint])


def figure_predictor(task: Task, model: keras.Model, prepared: Prepared):
    """The predictor the task's `figures` take."""
    if task.figure_endpoint is None:
        return in_memory_predictor(task, model, prepared)
    return in_memory_predictor(task, model, prepared, task.figure_endpoint)


def figure_files(task: Task, predict, prepared: Prepared) -> dict[str, bytes]:
    """The task's figures as PNG bytes, by file-safe name."""
    from recurrent.plots import png_bytes

    return {
        name: png_bytes(figure)
        for name, figure in task.figures(predict, prepared).items()
    }


class BestCheckpoint(keras.callbacks.Callback):
    """Keeps the model with the lowest validation loss in `path`, replaced only whole."""

    def __init__(self, path: Path, best: float = math.inf):
        super().__init__()
        self.path = path
        self.best = best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(MONITOR)
        if value is None or not value < self.best:
            return
        self.best = value
        partial = self.path.with_name("partial-" + self.path.name)
        self.model.save(partial)
        os.replace(partial, self.path)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping that starts from the best loss and wait of the epochs already run."""

    def __init__(self, patience: int, best: float | None, wait: int):
        super().__init__(monitor=MONITOR, patience=patience)
        self.resume_best, self.resume_wait = best, wait

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.wait = self.resume_best, self.resume_wait


class TrainingDiverged(UserInputError):
    """The loss became NaN or infinite."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss, as Keras'
    `TerminateOnNaN(raise_error=True)` does, with a message that says where and
    what to change. The crash backup keeps the last finished epoch."""

    def __init__(self, learning_rate: float):
        super().__init__()
        self.learning_rate = learning_rate
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _check(self, name: str, logs, where: str) -> None:
        value = (logs or {}).get(name)
        if value is not None and not math.isfinite(float(value)):
            raise TrainingDiverged(
                f"the {name.replace('_', ' ')} became {float(value)} at epoch "
                f"{self.epoch + 1}{where}; training stopped and nothing was exported. "
                f"Lower --set learning_rate (now {self.learning_rate:g}) or clipnorm, "
                "or look for extreme values in the data"
            )

    def on_train_batch_end(self, batch, logs=None):
        self._check("loss", logs, f", batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(MONITOR, logs, "")


def history(run_dir: Path) -> list[float]:
    """Validation losses of the epochs a run has finished so far."""
    path = run_dir / "history.csv"
    if not path.is_file():
        return []
    with path.open() as stream:
        return [
            float(row[MONITOR]) for row in csv.DictReader(stream) if row.get(MONITOR)
        ]


def trim_history(run_dir: Path, epochs: int) -> None:
    """Keeps the first `epochs` rows of history.csv (a kill can leave one row
    more than the backup it resumes from)."""
    path = run_dir / "history.csv"
    if not path.is_file():
        return
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        fields, rows = reader.fieldnames, list(reader)
    if epochs == 0 or not fields:
        path.unlink()
        return
    if len(rows) <= epochs:
        return
    kept = io.StringIO()
    writer = csv.DictWriter(kept, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows[:epochs])
    write_text(path, kept.getvalue())


def callbacks(
    task, config, data, prepared, model, run_dir: Path, source: dict | None = None
) -> list[keras.callbacks.Callback]:
    logs = run_dir / "logs"
    predict = in_memory_predictor(task, model, prepared, task.evaluation_endpoint)
    figure_predict = figure_predictor(task, model, prepared)
    losses = history(run_dir)
    best = min(losses, default=None)
    wait = len(losses) - 1 - losses.index(best) if losses else 0
    return [
        StopOnNonFiniteLoss(config.learning_rate),
        *task.callbacks(config, prepared, model),
        # The epoch's checkpoint and history row are written before its backup:
        # a kill between the two then leaves a row more than the backup holds
        # (trimmed on resume), never a backed-up epoch missing from history.
        BestCheckpoint(checkpoint(run_dir), math.inf if best is None else best),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=bool(losses)),
        ResumableEarlyStopping(config.patience, best, wait),
        keras.callbacks.BackupAndRestore(
            str(run_dir / "backup"), double_checkpoint=True
        ),
        keras.callbacks.TensorBoard(str(logs), histogram_freq=1, write_graph=False),
        SampleSummaries(
            logs,
            config_markdown(config.to_dict(), data, source),
            lambda: task.samples(predict, prepared),
            lambda: figure_files(task, figure_predict, prepared),
        ),
    ]


def resume_epoch(run_dir: Path, model: keras.Model) -> int:
    """Prepares a run folder for `fit` and returns the epoch to start from.

    A usable crash backup is left for `BackupAndRestore` to restore (weights,
    optimizer and epoch). Without one, the best checkpoint's weights are loaded
    and training goes on after its epoch; with neither, it starts over.
    """
    backup = run_dir / "backup"
    note = repair_backup(backup)
    if note:
        print(note)
    epoch = backup_epoch(backup)
    if epoch is not None:
        print(f"resuming the interrupted run {run_dir} after epoch {epoch}")
        trim_history(run_dir, epoch)
        return 0  # BackupAndRestore sets the initial epoch
    losses, best = history(run_dir), checkpoint(run_dir)
    if losses and best.is_file():
        start = losses.index(min(losses)) + 1
        print(f"resuming {run_dir} from its best checkpoint, after epoch {start}")
        model.load_weights(best)
        trim_history(run_dir, start)
        return start
    trim_history(run_dir, 0)
    return 0


def _claim_run(run_dir: Path, record: dict) -> dict | None:
    """Checks a reused run folder belongs to this task, data and config; returns its record."""
    info_file = run_dir / "run.json"
    if not info_file.is_file():
        return None
    previous = json.loads(info_file.read_text())
    same = all(
        previous.get(key) == record[key]
        for key in ("task", "data", "config", "init_from")
    )
    if not same or previous.get("fingerprint") != record["fingerprint"]:
        raise UserInputError(
            f"{run_dir} holds a run with other data or settings; pass a new --run NAME, "
            "or delete that folder to start over"
        )
    return previous


def train(
    task: Task,
    config: TaskConfig,
    data: str,
    layout: Layout,
    run_name: str | None = None,
    source: init_from.Source | None = None,
) -> TrainResult:
    """Prepares the data, trains (resuming an interrupted run), and returns the
    best model; a new run starts from `source`'s weights and preprocessing if
    given, from scratch otherwise."""
    identity = source.record if source else None
    run_dir = layout.run(run_name or default_run_name(task, config, data, identity))
    with RunLock(run_dir):
        return _train_locked(task, config, data, layout, run_dir, source)


def _train_locked(
    task, config, data, layout: Layout, run_dir: Path, source
) -> TrainResult:
    keras.utils.set_random_seed(config.seed)
    inherited = source.inherited(task) if source else None
    prepared = init_from.prepare(task, config, data, inherited)
    if source:
        init_from.check_preprocessing(task, source, prepared)
    identity = source.record if source else None
    record = run_record(task, config, data, prepared.fingerprint, identity)
    previous = _claim_run(run_dir, record)
    best = checkpoint(run_dir)
    if previous and previous.get("finished") and best.is_file():
        print(
            f"{run_dir} has finished; using its best checkpoint (--run NEW trains anew)"
        )
        return TrainResult(keras.saving.load_model(best), prepared, run_dir)
    model = task.build_model(config, prepared)
    source_model = init_from.compatible_model(source, model, config) if source else None
    write_json(run_dir / "run.json", record | {"finished": False})
    write_json(run_dir / "assets.json", stored.to_json(prepared.assets))
    initial_epoch = resume_epoch(run_dir, model)
    if initial_epoch == 0 and backup_epoch(run_dir / "backup") is None:
        if source:
            init_from.initialise(task, source, model, source_model)
        else:
            task.pretrain(model, config, prepared)
    del source_model
    print(f"training; watch it with: tensorboard --logdir {layout.runs}")
    model.fit(
        prepared.train,
        validation_data=prepared.validation,
        epochs=config.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks(task, config, data, prepared, model, run_dir, identity),
        shuffle=False,  # the task's dataset is shuffled already
        verbose=1 if sys.stdout.isatty() else 2,  # one line per epoch in logs
    )
    if not best.is_file():
        raise UserInputError(
            f"{run_dir} ended without a finite validation loss, so it has no "
            "checkpoint; check the data and settings"
        )
    write_json(run_dir / "run.json", record | {"finished": True})
    return TrainResult(keras.saving.load_model(best), prepared, run_dir)
