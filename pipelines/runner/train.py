"""Training with the callbacks every task gets: TensorBoard, best checkpoint,
crash backup, early stopping; gradients are clipped by the task's optimizer."""

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import keras

from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.tensorboard import TextSummaries, config_markdown
from tasks.base import Prepared, Task, TaskConfig, batched


@dataclasses.dataclass
class TrainResult:
    model: keras.Model
    prepared: Prepared
    run_dir: Path


def default_run_name(task: Task, config: TaskConfig, data: str) -> str:
    """Same task, data and config give the same run, so a rerun resumes it."""
    text = json.dumps([task.name, data, config.to_dict()], sort_keys=True)
    return "run-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def in_memory_predictor(task: Task, model: keras.Model, prepared: Prepared):
    """The task's "serve" endpoint over the live model, as the export will run it."""
    import tensorflow as tf

    function, signature = task.endpoints(model, prepared)["serve"]
    return batched(tf.function(function, input_signature=signature))


def callbacks(
    task, config, data, prepared, model, run_dir: Path
) -> list[keras.callbacks.Callback]:
    logs = run_dir / "logs"
    predict = in_memory_predictor(task, model, prepared)
    return [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(checkpoint(run_dir)), monitor="val_loss", save_best_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.TensorBoard(str(logs), histogram_freq=1, write_graph=False),
        TextSummaries(
            logs,
            config_markdown(config.to_dict(), data),
            lambda: task.samples(predict, prepared),
        ),
    ]


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
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(
        json.dumps(
            {"task": task.name, "data": data, "config": config.to_dict()}, indent=2
        )
    )
    model = task.build_model(config, prepared)
    if (run_dir / "backup").is_dir():
        print(f"resuming the interrupted run {run_dir}")
    print(f"training; watch it with: tensorboard --logdir {layout.runs}")
    model.fit(
        prepared.train,
        validation_data=prepared.validation,
        epochs=config.epochs,
        shuffle=False,  # the task's dataset is shuffled already
        verbose=1 if sys.stdout.isatty() else 2,  # one line per epoch in logs
        callbacks=callbacks(task, config, data, prepared, model, run_dir),
    )
    best = checkpoint(run_dir)
    if best.is_file():
        model = keras.saving.load_model(best)
    return TrainResult(model=model, prepared=prepared, run_dir=run_dir)
