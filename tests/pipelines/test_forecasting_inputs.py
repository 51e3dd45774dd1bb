"""Forecasting inputs a user can get wrong, end to end in subprocesses: one clear
error and exit code 2, and an export that answers NaN for unusable windows."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "forecasting"
SETTINGS = ("--set", "time_column=timestamp", "target=load", "features=load,temp")
CLIENT = """
import json, sys
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
batch = np.load(sys.argv[2])
together = model.serve(tf.constant(batch))
alone = [model.serve(tf.constant(batch[i : i + 1])) for i in (0, 4)]
print(json.dumps({
    "together": {k: v.numpy().tolist() for k, v in together.items()},
    "alone": [{k: v.numpy()[0].tolist() for k, v in out.items()} for out in alone],
}))
"""


def _series(hours: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    daily = np.sin(2 * np.pi * np.arange(hours) / 24)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2020-01-01", periods=hours, freq="h"),
            "load": 50 + 10 * daily + rng.normal(0, 1, hours),
            "temp": 15 + 5 * daily + rng.normal(0, 0.5, hours),
        }
    )


def _refused(result) -> str:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A smoke run on a small user CSV; returns its output folder."""
    folder = tmp_path_factory.mktemp("forecasting_inputs")
    _series(24 * 12).to_csv(folder / "load.csv", index=False)
    run_pipeline(
        TASK, "--smoke", "--data", str(folder / "load.csv"), *SETTINGS, output=folder
    )
    return folder


def test_predict_with_an_empty_path_says_it_is_empty(trained):
    stderr = _refused(run_pipeline(TASK, "predict", "", output=trained, check=False))
    assert "an input path is empty: pass the path of a CSV file" in stderr
    assert "not found" not in stderr


def test_predict_says_to_fill_a_long_gap_in_its_file_not_to_set_max_gap(trained):
    recent = _series(48)
    recent.loc[30:40, "temp"] = np.nan  # within the last 24 rows
    path = trained / "recent.csv"
    recent.to_csv(path, index=False)
    stderr = _refused(
        run_pipeline(TASK, "predict", str(path), output=trained, check=False)
    )
    assert "column 'temp' misses 11 values in a row" in stderr
    assert f"fill them in {path} (predict takes no --set" in stderr
    assert "raise --set max_gap" not in stderr


@pytest.mark.parametrize("hours", [1, 150])
def test_training_on_a_series_too_short_says_how_many_steps_it_needs(tmp_path, hours):
    _series(hours).to_csv(tmp_path / "short.csv", index=False)
    result = run_pipeline(
        TASK,
        "train",
        "--smoke",
        "--data",
        str(tmp_path / "short.csv"),
        *SETTINGS,
        output=tmp_path,
        check=False,
    )
    assert "needs at least 199 time steps for lookback=24 plus horizon=6" in _refused(
        result
    )
    assert f"but has {hours};" in result.stderr


def test_training_on_an_infinite_value_names_its_column_and_time(tmp_path):
    frame = _series(24 * 12).astype({"temp": object})
    frame.loc[100, "temp"] = "inf"
    frame.to_csv(tmp_path / "inf.csv", index=False)
    result = run_pipeline(
        TASK,
        "train",
        "--smoke",
        "--data",
        str(tmp_path / "inf.csv"),
        *SETTINGS,
        output=tmp_path,
        check=False,
    )
    assert (
        "error: column 'temp' holds a non-finite value at 2020-01-05 04:00:00 (inf)"
        in _refused(result)
    )


def test_the_export_answers_nan_in_exactly_the_rows_with_unusable_values(
    trained, tmp_path
):
    export = trained / TASK / "1"
    assets = json.loads((export / "metadata.json").read_text())["assets"]
    rng = np.random.default_rng(0)
    shape = (5, assets["lookback"], len(assets["inputs"]))
    batch = rng.normal(assets["scale_mean"], assets["scale_std"], shape)
    batch[1, 3, 1], batch[2, -1, 0], batch[3, 0, 0] = np.inf, 1e38, np.nan
    np.save(tmp_path / "batch.npy", batch.astype("float32"))
    result = run_without_project(
        CLIENT, str(export), str(tmp_path / "batch.npy"), cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    together = {name: np.array(value) for name, value in answer["together"].items()}
    assert {"forecast", "lower", "upper", "scale"} <= set(together)
    for name, value in together.items():
        assert np.isnan(value[1:4]).all(), name
        for row, alone in zip((0, 4), answer["alone"], strict=True):
            np.testing.assert_array_equal(value[row], alone[name])
            assert np.isfinite(value[row]).all()
