import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from pipelines.runner.export import write_saved_model
from pipelines.runner.train import in_memory_predictor
from recurrent.errors import UserInputError
from tasks.forecasting import TASK, Config

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


@pytest.mark.parametrize("head", ["gaussian", "quantile"])
def test_export_takes_raw_windows_and_returns_raw_units_with_intervals(
    prepared, head, tmp_path
):
    config = dataclasses.replace(TINY, head=head)
    model = TASK.build_model(config, prepared)
    # The assets record the head the model was built with.
    prepared = dataclasses.replace(prepared, assets={**prepared.assets, "head": head})
    write_saved_model(TASK, model, prepared, tmp_path)
    loaded = tf.saved_model.load(str(tmp_path))
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
