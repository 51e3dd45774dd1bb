"""End to end: the forecasting pipeline in subprocesses, its export without the project."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "forecasting"
CLIENT = """
import json, sys
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
window = np.load(sys.argv[2])
outputs = model.serve(tf.constant(window[None], tf.float32))
print(json.dumps({key: value.numpy().tolist() for key, value in outputs.items()}))
"""


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    output = tmp_path_factory.mktemp("forecasting")
    return output, run_pipeline(TASK, "--smoke", output=output)


def test_smoke_run_exports_metrics_baselines_and_plots(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert {"mae", "rmse", "mase", "smape", "crps", "coverage_80"} <= set(
        metadata["metrics"]
    )
    assert set(metadata["baselines"]) == {"naive", "seasonal_naive", "holt_winters"}
    assert metadata["figures"] == ["forecast_1.png", "forecast_2.png", "forecast_3.png"]
    for name in metadata["figures"]:
        assert (export / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "holt_winters" in result.stdout and "80% interval" in result.stdout


def test_the_export_forecasts_a_raw_window_where_the_project_cannot_be_imported(
    smoke, tmp_path
):
    output, _ = smoke
    metadata = json.loads((output / TASK / "1" / "metadata.json").read_text())
    assets = metadata["assets"]
    rng = np.random.default_rng(0)
    window = rng.normal(
        assets["scale_mean"],
        assets["scale_std"],
        (assets["lookback"], len(assets["inputs"])),
    )
    np.save(tmp_path / "window.npy", window.astype("float32"))
    result = run_without_project(
        CLIENT, str(output / TASK / "1"), str(tmp_path / "window.npy"), cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    forecast = np.array(answer["forecast"])
    assert forecast.shape == (1, assets["horizon"])
    assert np.all(np.array(answer["lower"]) < forecast) and np.all(
        forecast < np.array(answer["upper"])
    )
    assert np.all(np.abs(forecast) < 100)  # degrees Celsius, not scaled units


def test_evaluating_an_export_with_other_window_sizes_is_refused(smoke):
    output, _ = smoke
    result = run_pipeline(
        TASK, "evaluate", "--set", "lookback=12", output=output, check=False
    )
    assert result.returncode == 2
    assert (
        "was trained with lookback=24, but tmy_weather with these settings gives 12; "
        "drop the --set or --config that changes it" in result.stderr
    )


def _series(hours: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    time = pd.date_range("2020-01-01", periods=hours, freq="h")
    daily = np.sin(2 * np.pi * np.arange(hours) / 24)
    return pd.DataFrame(
        {
            "timestamp": time.astype(str),
            "load": 50 + 10 * daily + rng.normal(0, 1, hours),
            "temperature": 15 + 5 * daily + rng.normal(0, 0.5, hours),
        }
    )


def test_a_user_csv_with_gaps_trains_and_its_rows_feed_predict(tmp_path):
    frame = _series(24 * 30)
    frame.loc[[100, 101, 400], "load"] = np.nan
    frame.loc[250, "temperature"] = np.nan
    data = tmp_path / "load.csv"
    frame.to_csv(data, index=False)
    settings = [
        "--set",
        "time_column=timestamp",
        "target=load",
        "features=load,temperature",
    ]
    run_pipeline(
        TASK, "--smoke", "--data", str(data), *settings, output=tmp_path / "out"
    )
    metadata = json.loads((tmp_path / "out" / TASK / "1" / "metadata.json").read_text())
    assert metadata["data"] == str(data)
    assert metadata["assets"]["inputs"][:2] == ["load", "temperature"]

    recent = tmp_path / "recent.csv"
    _series(48).to_csv(recent, index=False)
    predicted = run_pipeline(TASK, "predict", str(recent), output=tmp_path / "out")
    leads = [
        line for line in predicted.stdout.splitlines() if line.strip()[:1].isdigit()
    ]
    assert len(leads) == metadata["assets"]["horizon"]


def test_a_long_gap_in_a_user_csv_names_its_rows(tmp_path):
    frame = _series(24 * 10)
    frame.loc[50:60, "load"] = np.nan
    data = tmp_path / "gappy.csv"
    frame.to_csv(data, index=False)
    settings = ["--set", "time_column=timestamp", "target=load", "features=load"]
    result = run_pipeline(
        TASK,
        "train",
        "--smoke",
        "--data",
        str(data),
        *settings,
        output=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert (
        "error: column 'load' misses 11 values in a row (2020-01-03 02:00:00 to 2020-01-03 12:00:00)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
