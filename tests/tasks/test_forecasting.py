import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from pipelines.runner.export import write_saved_model
from pipelines.runner.train import in_memory_predictor
from recurrent.errors import UserInputError
from tasks.forecasting import TASK, Config, warn_range_shift

TINY = Config().tiny()


@pytest.fixture(scope="module")
def prepared():
    return TASK.prepare(TINY, "tmy_weather")


def test_splits_are_consecutive_and_scaling_is_fitted_on_train_only(prepared):
    splits = prepared.splits
    assert [len(splits[name]) for name in ("train", "validation", "test")] == [
        6132,
        1314,
        1314,
    ]
    assert splits["train"]["time"].iloc[-1] < splits["validation"]["time"].iloc[0]
    assert splits["validation"]["time"].iloc[-1] < splits["test"]["time"].iloc[0]
    inputs = prepared.assets["inputs"]
    assert inputs[0] == "dry_bulb" and inputs[-2:] == ["hour_sin", "hour_cos"]
    train = splits["train"][inputs].to_numpy("float32")
    np.testing.assert_allclose(
        prepared.assets["scale_mean"], train.mean(axis=0), rtol=1e-4, atol=1e-4
    )
    x, y = next(iter(prepared.train))
    assert x.shape == (TINY.batch_size, TINY.lookback, len(inputs))
    assert y.shape == (TINY.batch_size, TINY.horizon)


@pytest.mark.parametrize("model", ["many_to_one", "seq2seq"])
@pytest.mark.parametrize("head", ["point", "gaussian", "quantile"])
def test_every_model_and_head_trains_one_step(prepared, model, head):
    config = dataclasses.replace(TINY, model=model, head=head)
    network = TASK.build_model(config, prepared)
    before = [weight.numpy() for weight in network.trainable_weights]
    network.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    assert all(
        not np.allclose(weight.numpy(), old)
        for weight, old in zip(network.trainable_weights, before, strict=True)
    )


def test_bad_settings_are_refused():
    with pytest.raises(UserInputError, match="unknown model 'transformer'"):
        Config(model="transformer")
    for quantiles in [(0.5, 0.1, 0.9), (0.25, 0.5, 0.75), (0.1, 0.9, 1.5)]:
        with pytest.raises(UserInputError, match="quantiles must increase"):
            Config(head="quantile", quantiles=quantiles)
    with pytest.raises(UserInputError, match="stride must be at least 1"):
        Config(stride=0)
    with pytest.raises(UserInputError, match="unknown normalize 'series'"):
        Config(normalize="series")
    with pytest.raises(UserInputError, match="difference must be less than lookback"):
        Config(difference=72)
    with pytest.raises(UserInputError, match="resample takes a pandas offset"):
        Config(resample="hourly")
    with pytest.raises(UserInputError, match="unknown resample_how 'mode'"):
        Config(resample_how="mode")


def test_evaluate_reports_the_model_beside_three_baselines(prepared):
    model = TASK.build_model(TINY, prepared)
    evaluation = TASK.evaluate(
        in_memory_predictor(TASK, model, prepared), prepared, TINY
    )
    assert set(evaluation.baselines) == {"naive", "seasonal_naive", "holt_winters"}
    metrics = evaluation.metrics
    assert {"mae", "rmse", "mase", "smape", "crps", "coverage_80"} <= set(metrics)
    assert len(metrics["mae_by_lead"]) == TINY.horizon
    ratio = metrics["mae"] / evaluation.baselines["seasonal_naive"]["mae"]
    assert metrics["mae_ratio_to_seasonal_naive"] == pytest.approx(ratio)
    # Holt-Winters tracks temperature a few hours ahead far better than yesterday's values do
    assert (
        evaluation.baselines["holt_winters"]["mae"]
        < evaluation.baselines["seasonal_naive"]["mae"]
    )


def _exported(prepared, head: str, path):
    """A model of `head`, its prepared data, and its SavedModel reloaded."""
    model = TASK.build_model(dataclasses.replace(TINY, head=head), prepared)
    # The assets record the head the model was built with.
    prepared = dataclasses.replace(prepared, assets={**prepared.assets, "head": head})
    write_saved_model(TASK, model, prepared, path)
    return model, prepared, tf.saved_model.load(str(path))


@pytest.mark.parametrize("head", ["gaussian", "quantile"])
def test_export_takes_raw_windows_and_returns_raw_units_with_intervals(
    prepared, head, tmp_path
):
    model, prepared, loaded = _exported(prepared, head, tmp_path)
    x = TASK.sample_inputs(prepared, count=2)
    exported = loaded.serve(tf.constant(np.stack(x)))
    parameters = model(
        (np.stack(x) - np.array(prepared.assets["scale_mean"]))
        / np.array(prepared.assets["scale_std"])
    )
    point = 1 if head == "quantile" else 0
    expected = (
        np.array(parameters)[..., point] * prepared.assets["scale_std"][0]
        + prepared.assets["scale_mean"][0]
    )
    np.testing.assert_allclose(exported["forecast"], expected, rtol=1e-4, atol=1e-4)
    assert (np.array(exported["lower"]) <= np.array(exported["forecast"]) + 1e-5).all()
    assert (np.array(exported["upper"]) >= np.array(exported["forecast"]) - 1e-5).all()


def _write_series(path, hours: int, **changes) -> str:
    """A CSV of an hourly series `load` with a daily cycle; `changes` maps a row
    to the text written in its `load` cell."""
    time = pd.date_range("2020-01-01", periods=hours, freq="h")
    load = 50 + 10 * np.sin(2 * np.pi * np.arange(hours) / 24)
    frame = pd.DataFrame({"time": time.astype(str), "load": load.astype(object)})
    for row, text in changes.items():
        frame.loc[int(row.removeprefix("row")), "load"] = text
    frame.to_csv(path, index=False)
    return str(path)


USER_CSV = dataclasses.replace(TINY, target="load", features=("load",))


@pytest.mark.parametrize("hours", [1, 198])
def test_a_series_too_short_for_every_split_names_the_steps_it_needs(tmp_path, hours):
    data = _write_series(tmp_path / "short.csv", hours)
    with pytest.raises(
        UserInputError,
        match=rf"needs at least 199 time steps for lookback=24 plus horizon=6 in "
        rf"each of train, validation and test \(validation_fraction=0.15, "
        rf"test_fraction=0.15\), but has {hours};",
    ):
        TASK.prepare(USER_CSV, data)


def test_the_shortest_series_accepted_prepares(tmp_path):
    prepared = TASK.prepare(USER_CSV, _write_series(tmp_path / "199.csv", 199))
    assert min(len(part) for part in prepared.splits.values()) == 30


@pytest.mark.parametrize("text", ["inf", "-inf", "1e309", "1e39"])
def test_a_value_float32_cannot_hold_in_a_csv_names_its_column_and_time(tmp_path, text):
    data = _write_series(tmp_path / "bad.csv", 400, row250=text)
    with pytest.raises(
        UserInputError, match=r"column 'load' holds .* at 2020-01-11 10:00:00 "
    ):
        TASK.prepare(USER_CSV, data)


def test_a_series_of_huge_values_trains_on_finite_scaled_windows(tmp_path):
    data = tmp_path / "huge.csv"
    frame = pd.read_csv(_write_series(data, 400))
    frame.assign(load=frame["load"] * 1e30).to_csv(data, index=False)
    prepared = TASK.prepare(USER_CSV, str(data))
    assert 1e29 < prepared.assets["scale_std"][0] < 1e31
    x, y = next(iter(prepared.train))
    assert np.isfinite(x).all() and np.isfinite(y).all()
    assert np.abs(x).max() > 0.5  # standardised, not squashed to zero


def test_a_test_value_far_outside_the_training_spread_is_refused(tmp_path):
    data = _write_series(tmp_path / "spike.csv", 400, row390="1e9")
    with pytest.raises(
        UserInputError,
        match=r"column 'load' holds 1e\+09 at 2020-01-17 06:00:00, more than 10000 "
        "training standard deviations from its training mean",
    ):
        TASK.prepare(USER_CSV, data)


@pytest.mark.parametrize("head", ["gaussian", "quantile"])
def test_the_export_answers_nan_in_exactly_the_rows_holding_bad_values(
    prepared, head, tmp_path
):
    _, prepared, loaded = _exported(prepared, head, tmp_path)
    good = np.stack(TASK.sample_inputs(prepared, count=5))
    batch = good.copy()
    batch[1, 3, 2] = np.inf
    batch[2, -1, 0] = 1e38
    batch[3, 0, 1] = np.nan
    outputs = {name: np.array(value) for name, value in loaded.serve(batch).items()}
    for row in (0, 4):
        alone = loaded.serve(tf.constant(good[row : row + 1]))
        for name, value in alone.items():
            np.testing.assert_array_equal(outputs[name][row], np.array(value)[0])
            assert np.isfinite(outputs[name][row]).all()
    for name, value in outputs.items():
        assert np.isnan(value[1:4]).all(), name


def test_predict_refuses_an_empty_path(prepared):
    with pytest.raises(UserInputError, match="an input path is empty: pass the path"):
        TASK.read_inputs([""], None, {"assets": prepared.assets})


def test_predict_says_to_fill_a_long_gap_in_its_file(prepared, tmp_path):
    recent = prepared.splits["test"].tail(TINY.lookback).copy()
    recent.loc[recent.index[5:15], "pressure"] = np.nan
    path = tmp_path / "recent.csv"
    recent.to_csv(path, index=False)
    with pytest.raises(UserInputError) as raised:
        TASK.read_inputs([str(path)], None, {"assets": prepared.assets})
    message = str(raised.value)
    assert "column 'pressure' misses 10 values in a row" in message
    assert f"fill them in {path} (predict takes no --set" in message
    assert "raise --set max_gap" not in message


def test_predict_refuses_a_window_the_export_would_answer_with_nan(prepared, tmp_path):
    recent = prepared.splits["test"].tail(TINY.lookback).copy()
    recent.loc[recent.index[-1], "pressure"] = 1e12
    path = tmp_path / "recent.csv"
    recent.to_csv(path, index=False)
    with pytest.raises(UserInputError, match="column 'pressure' holds 1e\\+12 at"):
        TASK.read_inputs([str(path)], None, {"assets": prepared.assets})


def test_predict_names_a_missing_input_file_as_an_input(prepared, tmp_path):
    missing = str(tmp_path / "recent.csv")
    with pytest.raises(UserInputError, match="input file .*recent.csv' not found"):
        TASK.read_inputs([missing], None, {"assets": prepared.assets})


def _trend_csv(path, days: int = 600, seed: int = 0) -> str:
    """A daily series rising steadily under a weekly cycle: its validation and
    test periods lie entirely above the training range."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = 10 + 0.2 * t + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, days)
    dates = pd.date_range("2015-01-01", periods=days, freq="D")
    pd.DataFrame({"date": dates.astype(str), "level": level}).to_csv(path, index=False)
    return str(path)


TREND = Config(
    target="level",
    features=("level",),
    time_column="date",
    season=7,
    lookback=21,
    horizon=7,
    units=16,
    epochs=20,
    batch_size=32,
    model="many_to_one",
)


@pytest.mark.parametrize(
    "changes", [{"normalize": "window"}, {"difference": 1}], ids=["window", "diff1"]
)
def test_a_rising_series_is_forecast_better_than_seasonal_naive_with_a_warning(
    tmp_path, capsys, changes
):
    config = dataclasses.replace(TREND, **changes)
    prepared = TASK.prepare(config, _trend_csv(tmp_path / "trend.csv"))
    warned = capsys.readouterr().err
    for split in ("validation", "test"):
        assert f"warning: the {split} values of 'level' run from" in warned
    assert "outside the training range" in warned
    assert prepared.assets["inputs"] == ["level", "weekday_sin", "weekday_cos"]
    keras.utils.set_random_seed(0)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    evaluation = TASK.evaluate(
        in_memory_predictor(TASK, model, prepared), prepared, config
    )
    test = prepared.splits["test"]["level"]
    assert test.min() > prepared.splits["train"]["level"].max()
    # seasonal naive misses a week of trend (1.4); the model is forecast from
    # each window's own level, so it tracks the rise
    assert (
        evaluation.metrics["mae"] < 0.6 * evaluation.baselines["seasonal_naive"]["mae"]
    )
    assert evaluation.metrics["coverage_80"] > 0.5


def test_the_warning_advises_instance_normalisation_when_it_is_off(tmp_path, capsys):
    TASK.prepare(TREND, _trend_csv(tmp_path / "trend.csv"))
    assert "try --set normalize=window (or difference=1)" in capsys.readouterr().err


def test_the_default_data_stays_in_its_training_range(prepared, capsys):
    warn_range_shift(prepared.splits, TINY)
    assert capsys.readouterr().err == ""


def test_irregular_times_train_after_resampling(tmp_path):
    rng = np.random.default_rng(3)
    # About two readings an hour at irregular minutes, some at the same time.
    minutes = np.sort(rng.integers(0, 60 * 24 * 12, 24 * 12 * 2))
    times = pd.Timestamp("2020-01-01") + pd.to_timedelta(minutes, unit="min")
    hours = minutes / 60
    load = 50 + 10 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.5, len(hours))
    path = tmp_path / "irregular.csv"
    pd.DataFrame({"time": times.astype(str), "load": load}).to_csv(path, index=False)
    with pytest.raises(UserInputError, match="--set resample=RULE"):
        TASK.prepare(USER_CSV, str(path))
    config = dataclasses.replace(USER_CSV, resample="1h", max_gap=3)
    prepared = TASK.prepare(config, str(path))
    assert prepared.assets["inputs"] == ["load", "hour_sin", "hour_cos"]
    steps = pd.concat(prepared.splits.values())["time"].diff().dropna()
    assert (steps == pd.Timedelta("1h")).all()
    network = TASK.build_model(config, prepared)
    history = network.fit(prepared.train, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()


def test_predict_resamples_and_computes_the_calendar_of_the_export(tmp_path):
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-06", periods=40 * 2, freq="12h").astype(str),
            "level": np.arange(80.0),
        }
    )
    path = tmp_path / "recent.csv"
    frame.to_csv(path, index=False)
    assets = {
        "inputs": ["level", "weekday_sin", "weekday_cos"],
        "target": "level",
        "time_column": "date",
        "lookback": 21,
        "max_gap": 2,
        "resample": "1D",
        "resample_how": "mean",
        "scale_mean": [0.0, 0.0, 0.0],
        "scale_std": [1.0, 1.0, 1.0],
    }
    (window,) = TASK.read_inputs([str(path)], None, {"assets": assets})
    assert window.shape == (21, 3)
    np.testing.assert_allclose(window[-1, 0], 78.5)  # the mean of the last day
    days = pd.date_range("2020-01-06", periods=40, freq="D")[-21:]
    np.testing.assert_allclose(
        window[:, 1], np.sin(2 * np.pi * days.day_of_week / 7), atol=1e-6
    )


def test_a_real_rising_series_us_gdp_beats_seasonal_naive_with_a_warning(
    tmp_path, capsys
):
    from statsmodels.datasets import macrodata

    data = macrodata.load_pandas().data  # 1959Q1-2009Q3, installed with statsmodels
    quarters = pd.PeriodIndex.from_fields(
        year=data["year"].astype(int), quarter=data["quarter"].astype(int), freq="Q"
    )
    path = tmp_path / "us_gdp.csv"
    pd.DataFrame(
        {
            "quarter": quarters.to_timestamp().strftime("%Y-%m-%d"),
            "realgdp": data["realgdp"],
            "realcons": data["realcons"],
        }
    ).to_csv(path, index=False)
    config = Config(
        target="realgdp",
        features=("realgdp", "realcons"),
        time_column="quarter",
        season=4,
        lookback=8,
        horizon=4,
        units=16,
        epochs=40,
        batch_size=16,
        normalize="window",
        difference=1,
    )
    prepared = TASK.prepare(config, str(path))
    assert "warning: the test values of 'realgdp' run from" in capsys.readouterr().err
    keras.utils.set_random_seed(0)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    evaluation = TASK.evaluate(
        in_memory_predictor(TASK, model, prepared), prepared, config
    )
    # Seasonal naive lags a year of growth behind; the model follows the level.
    assert (
        evaluation.metrics["mae"] < 0.8 * evaluation.baselines["seasonal_naive"]["mae"]
    )
