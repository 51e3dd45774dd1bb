"""Training with the callbacks every task gets: TensorBoard, best checkpoint,
crash backup, early stopping; gradients are clipped by the task's optimizer.

A run lives in its own folder. If it is killed, the same command resumes it
from the last finished epoch, with the best checkpoint and the early-stopping
count as they were; a finished run is reused rather than trained again.
"""

import csv
import dataclasses
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import keras

from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.tensorboard import SampleSummaries, config_markdown
from recurrent.errors import UserInputError
from tasks.base import Prepared, Task, TaskConfig, batched

MONITOR = "val_loss"


@dataclasses.dataclass
class TrainResult:
    model: keras.Model
    prepared: Prepared
    run_dir: Path


def default_run_name(task: Task, config: TaskConfig, data: str) -> str:
    """Same task, data and config give the same run, so a rerun resumes it."""
    text = json.dumps([task.name, data, config.to_dict()], sort_keys=True)
    return "run-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def write_json(path: Path, value) -> None:
    """Writes JSON whole or not at all (a temporary file, then a rename)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=2))
    os.replace(partial, path)


def in_memory_predictor(
    task: Task, model: keras.Model, prepared: Prepared, endpoint: str | None = None
):
    """A task endpoint (the serving one by default) over the live model, as the
    export will run it."""
    import tensorflow as tf

    function, signature = task.endpoints(model, prepared)[
        endpoint or task.serving_endpoint
    ]
    return batched(tf.function(function, input_signature=signature))


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


def history(run_dir: Path) -> list[float]:
    """Validation losses of the epochs a run has finished so far."""
    path = run_dir / "history.csv"
    if not path.is_file():
        return []
    with path.open() as stream:
        return [
            float(row[MONITOR]) for row in csv.DictReader(stream) if row.get(MONITOR)
        ]


def callbacks(
    task, config, data, prepared, model, run_dir: Path
) -> list[keras.callbacks.Callback]:
    logs = run_dir / "logs"
    predict = in_memory_predictor(task, model, prepared)
    figure_predict = figure_predictor(task, model, prepared)
    losses = history(run_dir) if (run_dir / "backup").is_dir() else []
    best = min(losses, default=None)
    wait = len(losses) - 1 - losses.index(best) if losses else 0
    return [
        keras.callbacks.BackupAndRestore(
            str(run_dir / "backup"), double_checkpoint=True
        ),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=bool(losses)),
        BestCheckpoint(checkpoint(run_dir), math.inf if best is None else best),
        ResumableEarlyStopping(config.patience, best, wait),
        keras.callbacks.TensorBoard(str(logs), histogram_freq=1, write_graph=False),
        SampleSummaries(
            logs,
            config_markdown(config.to_dict(), data),
            lambda: task.samples(predict, prepared),
            lambda: figure_files(task, figure_predict, prepared),
        ),
    ]


def _claim_run(run_dir: Path, record: dict) -> dict | None:
    """Checks a reused run folder belongs to this task, data and config; returns its record."""
    info_file = run_dir / "run.json"
    if not info_file.is_file():
        return None
    previous = json.loads(info_file.read_text())
    same = all(previous.get(key) == record[key] for key in ("task", "data", "config"))
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
) -> TrainResult:
    """Prepares the data, trains (resuming an interrupted run), and returns the best model."""
    keras.utils.set_random_seed(config.seed)
    prepared = task.prepare(config, data)
    run_dir = layout.run(run_name or default_run_name(task, config, data))
    record = {
        "task": task.name,
        "data": data,
        "config": config.to_dict(),
        "fingerprint": prepared.fingerprint,
    }
    previous = _claim_run(run_dir, record)
    best = checkpoint(run_dir)
    if previous and previous.get("finished") and best.is_file():
        print(
            f"{run_dir} has finished; using its best checkpoint (--run NEW trains anew)"
        )
        return TrainResult(keras.saving.load_model(best), prepared, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "run.json", record | {"finished": False})
    model = task.build_model(config, prepared)
    if (run_dir / "backup").is_dir():
        print(f"resuming the interrupted run {run_dir}")
    print(f"training; watch it with: tensorboard --logdir {layout.runs}")
    model.fit(
        prepared.train,
        validation_data=prepared.validation,
        epochs=config.epochs,
        callbacks=callbacks(task, config, data, prepared, model, run_dir),
        shuffle=False,  # the task's dataset is shuffled already
        verbose=1 if sys.stdout.isatty() else 2,  # one line per epoch in logs
    )
    write_json(run_dir / "run.json", record | {"finished": True})
    if best.is_file():
        model = keras.saving.load_model(best)
    return TrainResult(model=model, prepared=prepared, run_dir=run_dir)
