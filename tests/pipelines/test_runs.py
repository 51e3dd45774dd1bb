"""Runs that resume and cannot corrupt: every task killed after an epoch and
during a backup write, two trainings of one run at once, a diverging loss."""

import json
import re

import pytest

from tests.pipelines.pipeline_process import (
    kill_after_backup,
    run_pipeline,
    start_pipeline,
)

EPOCHS = 4
TRAIN = {
    "text_classification": ["max_batches=10"],
    "translation": [],
    "forecasting": ["max_batches=10"],
}


def _train_args(task: str) -> list[str]:
    settings = [f"epochs={EPOCHS}", "patience=10", *TRAIN[task]]
    return ["train", "--smoke", "--set", *settings]


def _epochs(log: str) -> list[int]:
    return [int(epoch) for epoch in re.findall(rf"Epoch (\d+)/{EPOCHS}", log)]


def _run_dir(output, task):
    (run_dir,) = (output / task / "runs").iterdir()
    return run_dir


@pytest.mark.parametrize("task", TRAIN)
def test_a_run_killed_after_an_epoch_and_during_a_backup_write_resumes(task, tmp_path):
    args = _train_args(task)
    first = tmp_path / "first.log"
    process = start_pipeline(task, *args, output=tmp_path, log=first)
    kill_after_backup(process, tmp_path, task, 1, first)

    second = tmp_path / "second.log"
    process = start_pipeline(task, *args, output=tmp_path, log=second)
    kill_after_backup(process, tmp_path, task, 3, second)
    resumed = second.read_text()
    assert "resuming the interrupted run" in resumed and "after epoch 1" in resumed
    assert _epochs(resumed)[0] == 2, resumed

    # A kill while the backup's metadata is written leaves the file empty.
    run_dir = _run_dir(tmp_path, task)
    (run_dir / "backup" / "training_metadata.json").write_text("")
    third = run_pipeline(task, *args, output=tmp_path)
    assert "crash backup" in third.stdout and "is damaged" in third.stdout
    assert "after epoch 2" in third.stdout
    assert _epochs(third.stdout) == [3, 4], third.stdout
    assert json.loads((run_dir / "run.json").read_text())["finished"] is True
    rows = (run_dir / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2", "3"]
    if task != "text_classification":
        return  # what follows is the runner's alone: one task shows it

    again = run_pipeline(task, *args, output=tmp_path)
    assert "has finished; using its best checkpoint" in again.stdout
    assert not _epochs(again.stdout)

    other = run_pipeline(
        task, *args, "units=4", "--run", run_dir.name, output=tmp_path, check=False
    )
    assert other.returncode == 2
    assert "holds a run with other data or settings; pass a new --run" in other.stderr


def test_two_trainings_of_one_run_at_once_give_one_run_and_one_refusal(tmp_path):
    task = "text_classification"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [
        start_pipeline(task, *_train_args(task), output=tmp_path, log=log)
        for log in logs
    ]
    codes = [process.wait(timeout=600) for process in processes]
    assert sorted(codes) == [0, 2], [log.read_text()[-2000:] for log in logs]
    refused, finished = (0, 1) if codes[0] == 2 else (1, 0)
    message = logs[refused].read_text()
    assert f"is being trained by process {processes[finished].pid}" in message
    assert "Traceback" not in message
    assert _epochs(logs[finished].read_text()) == [1, 2, 3, 4]
    run_dir = _run_dir(tmp_path, task)
    assert json.loads((run_dir / "run.json").read_text())["finished"] is True


def test_a_diverging_loss_stops_training_with_a_message_and_no_checkpoint(tmp_path):
    task = "forecasting"
    settings = ["learning_rate=1e30", "clipnorm=0"]
    result = run_pipeline(
        task, "--smoke", "--set", *settings, output=tmp_path, check=False
    )
    assert result.returncode == 2
    assert re.search(r"error: the loss became (nan|inf) at epoch 1", result.stderr)
    assert "nothing was exported" in result.stderr
    assert "Traceback" not in result.stderr
    assert "best checkpoint" not in result.stdout
    assert not [path for path in (tmp_path / task).iterdir() if path.name != "runs"]
    assert not (_run_dir(tmp_path, task) / "checkpoint.keras").exists()
