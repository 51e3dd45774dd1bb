"""A rising series with irregular times, end to end: resampled, warned about,
normalised per window and differenced; its export forecasts at the window's
own level where the project cannot be imported."""

import json

import numpy as np
import pandas as pd

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "forecasting"
SETTINGS = (
    "--set",
    "time_column=when",
    "target=level",
    "features=level",
    "season=7",
    "resample=1D",
    "normalize=window",
    "difference=1",
)
CLIENT = """
import json, sys
import numpy as np
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
window = np.load(sys.argv[2])
outputs = model.serve(tf.constant(window[None], tf.float32))
print(json.dumps({key: value.numpy().tolist() for key, value in outputs.items()}))
"""


def _readings(days: int, start: str = "2018-01-01", seed: int = 0) -> pd.DataFrame:
    """Two to four readings a day at irregular times (some repeated) of a
    level that rises steadily under a weekly cycle."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 5, days)
    day = np.repeat(np.arange(days), counts)
    hours = rng.choice([0, 6, 9, 13, 18], len(day))
    times = pd.Timestamp(start) + pd.to_timedelta(day * 24 + hours, unit="h")
    level = 100 + 0.5 * day + 5 * np.sin(2 * np.pi * day / 7)
    return pd.DataFrame({"when": times.astype(str), "level": level})


def test_a_rising_irregular_series_trains_warns_and_exports_at_its_level(tmp_path):
    data = tmp_path / "rising.csv"
    _readings(400).to_csv(data, index=False)
    result = run_pipeline(
        TASK, "--smoke", "--data", str(data), *SETTINGS, output=tmp_path
    )
    assert "warning: the test values of 'level' run from" in result.stderr
    assert "with normalize=window and difference=1" in result.stderr
    export = tmp_path / TASK / "1"
    assets = json.loads((export / "metadata.json").read_text())["assets"]
    assert assets["inputs"] == ["level", "weekday_sin", "weekday_cos"]
    assert assets["resample"] == "1D" and assets["normalize"] == "window"

    # A window far above anything seen in training: forecast from its own level.
    days = pd.date_range("2030-01-01", periods=assets["lookback"], freq="D")
    level = 1000 + 0.5 * np.arange(len(days))
    angle = 2 * np.pi * days.day_of_week.to_numpy() / 7
    window = np.stack([level, np.sin(angle), np.cos(angle)], axis=1)
    np.save(tmp_path / "window.npy", window.astype("float32"))
    answer = run_without_project(
        CLIENT, str(export), str(tmp_path / "window.npy"), cwd=tmp_path
    )
    forecast = np.array(json.loads(answer.stdout.strip().splitlines()[-1])["forecast"])
    assert forecast.shape == (1, assets["horizon"])
    assert np.all(np.abs(forecast - level[-1]) < 50), forecast

    recent = tmp_path / "recent.csv"
    _readings(40, start="2019-03-01", seed=1).to_csv(recent, index=False)
    predicted = run_pipeline(TASK, "predict", str(recent), output=tmp_path)
    leads = [
        line for line in predicted.stdout.splitlines() if line.strip()[:1].isdigit()
    ]
    assert len(leads) == assets["horizon"]
