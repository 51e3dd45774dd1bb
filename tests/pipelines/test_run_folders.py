"""The pieces that keep run and export folders whole: the crash-backup repair,
the best-checkpoint fallback, the run lock, stale staging folders, run names."""

import argparse
import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from pipelines.runner import commands
from pipelines.runner.backup import backup_epoch, repair_backup
from pipelines.runner.export import finite_or_null, remove_stale_staging
from pipelines.runner.layout import Layout
from pipelines.runner.locks import RunLock
from pipelines.runner.train import resume_epoch, run_record
from recurrent.errors import UserInputError
from tasks.forecasting import TASK as FORECASTING
from tasks.forecasting import Config as ForecastingConfig


def _model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _backup(run_dir, epochs: int) -> keras.Model:
    """A backup folder as BackupAndRestore(double_checkpoint=True) leaves it."""
    callback = keras.callbacks.BackupAndRestore(
        str(run_dir / "backup"), double_checkpoint=True, delete_checkpoint=False
    )
    model = _model(0)
    x, y = np.ones((4, 3)), np.zeros((4, 2))
    model.fit(x, y, epochs=epochs, callbacks=[callback], verbose=0)
    return model


def test_a_good_backup_is_left_alone(tmp_path):
    _backup(tmp_path, epochs=2)
    assert repair_backup(tmp_path / "backup") is None
    assert backup_epoch(tmp_path / "backup") == 2


@pytest.mark.parametrize("damaged", ["training_metadata.json", "latest.weights.h5"])
def test_a_damaged_backup_falls_back_to_its_previous_copy(tmp_path, damaged):
    _backup(tmp_path, epochs=3)
    (tmp_path / "backup" / damaged).write_bytes(b"")
    assert backup_epoch(tmp_path / "backup") is None
    note = repair_backup(tmp_path / "backup")
    assert "is damaged" in note and "after epoch 2" in note
    assert backup_epoch(tmp_path / "backup") == 2


def test_without_a_good_backup_training_resumes_from_the_best_checkpoint(tmp_path):
    _backup(tmp_path, epochs=1)  # one epoch: no previous copy
    (tmp_path / "backup" / "training_metadata.json").write_text('{"epo')
    best = _model(1)
    best.save(tmp_path / "checkpoint.keras")
    (tmp_path / "history.csv").write_text(
        "epoch,loss,val_loss\n0,3.0,2.0\n1,2.0,1.0\n2,1.5,1.2\n3,1.4,1.3\n"
    )
    model = _model(2)
    assert resume_epoch(tmp_path, model) == 2
    assert not (tmp_path / "backup").exists()
    for got, want in zip(model.get_weights(), best.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows == ["epoch,loss,val_loss", "0,3.0,2.0", "1,2.0,1.0"]


def test_with_nothing_to_resume_from_a_run_starts_over(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,3.0,2.0\n")
    assert resume_epoch(tmp_path, _model(0)) == 0
    assert not (tmp_path / "history.csv").exists()


def test_a_second_lock_on_a_run_names_the_holder(tmp_path):
    run_dir = tmp_path / "run-1"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from pipelines.runner.locks import RunLock\n"
            "with RunLock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); time.sleep(60)",
            str(run_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(UserInputError, match=f"by process {holder.pid} on "),
            RunLock(run_dir),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with RunLock(run_dir):  # the lock died with its process
        (run_dir / "run.json").write_text("{}")
    assert (run_dir / "train.lock").read_text() == ""


def test_a_lock_on_a_new_run_that_trained_nothing_leaves_no_folder(tmp_path):
    with pytest.raises(UserInputError), RunLock(tmp_path / "run-1"):
        raise UserInputError("bad data")
    assert not (tmp_path / "run-1").exists()


def test_stale_staging_folders_go_and_live_ones_stay(tmp_path):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f".incomplete-{int(finished.stdout)}-abc"
    live = tmp_path / f".incomplete-{os.getpid()}-def"
    old_unnamed, new_unnamed = tmp_path / ".incomplete-x1", tmp_path / ".incomplete-x2"
    for folder in (dead, live, old_unnamed, new_unnamed):
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"partial")
    os.utime(old_unnamed, (0, 0))
    removed = remove_stale_staging(tmp_path)
    assert sorted(removed) == sorted([dead, old_unnamed])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [live.name, new_unnamed.name]
    )


def test_metadata_holds_no_bare_nan():
    value = {"mae": math.nan, "by_lead": [1.0, math.inf], "name": "x", "count": 3}
    text = json.dumps(finite_or_null(value), allow_nan=False)
    assert json.loads(text) == {
        "mae": None,
        "by_lead": [1.0, None],
        "name": "x",
        "count": 3,
    }


def test_a_run_record_read_back_from_json_equals_the_live_one(tmp_path):
    config = ForecastingConfig()
    assert isinstance(config.features, tuple)
    record = run_record(FORECASTING, config, "tmy_weather", "abc")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record))
    assert json.loads(path.read_text()) == record


def test_one_data_file_gives_one_run_however_its_path_is_spelled(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("time,dry_bulb\n")
    monkeypatch.chdir(tmp_path)
    spellings = ["data/a.csv", "./data/a.csv", str(tmp_path / "data" / "a.csv")]
    specs = {
        commands._data(FORECASTING, argparse.Namespace(data=spelling))
        for spelling in spellings
    }
    assert specs == {str((tmp_path / "data" / "a.csv").resolve())}


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", "", "x" * 200])
def test_a_run_name_that_leaves_the_runs_folder_is_refused(tmp_path, name):
    with pytest.raises(UserInputError, match="--run takes a plain folder name"):
        Layout(tmp_path, "forecasting").run(name)


def test_an_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UserInputError, match="is a file; pass a folder"):
        Layout(tmp_path / "file", "forecasting")
