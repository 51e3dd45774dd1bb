import keras
import numpy as np
import pytest

from recurrent.layers import ForecastHead, RecurrentEncoder
from recurrent.layers.reversible import (
    InstanceDenormalization,
    InstanceNormalization,
    LagDifference,
    LagIntegration,
)
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

RNG = np.random.default_rng(0)
# Two measured columns, then one calendar column; each row at its own level.
WINDOW = (
    RNG.normal(size=(3, 8, 3)) * [[[1.0, 2.0, 1.0]]] + [[[100.0, -5.0, 0.0]]]
).astype("float32")


def test_configs_round_trip_and_shapes_agree():
    assert_config_round_trip(InstanceNormalization(2, epsilon=1e-4))
    assert_config_round_trip(InstanceDenormalization("quantile", (0.1, 0.5, 0.9)))
    assert_config_round_trip(LagDifference(2, 2))
    assert_config_round_trip(LagIntegration(3, 5, "gaussian", (0.1, 0.5, 0.9)))
    assert_symbolic_and_eager_shapes(lambda: InstanceNormalization(2), WINDOW)
    assert_symbolic_and_eager_shapes(lambda: LagDifference(3, 2), WINDOW)


def test_instance_normalization_standardises_measured_columns_only():
    normalised, location, spread = (
        np.array(t) for t in InstanceNormalization(2)(WINDOW)
    )
    np.testing.assert_allclose(location[:, 0], WINDOW[..., :2].mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(
        spread[:, 0], np.sqrt(WINDOW[..., :2].var(axis=1) + 1e-5), rtol=1e-5
    )
    np.testing.assert_allclose(normalised[..., :2].mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(normalised[..., :2].std(axis=1), 1, atol=1e-3)
    np.testing.assert_array_equal(normalised[..., 2], WINDOW[..., 2])
    # a constant window is centred, not divided by zero
    constant, _, _ = InstanceNormalization(1)(np.full((1, 4, 1), 7.0, "float32"))
    np.testing.assert_array_equal(np.array(constant), 0)


@pytest.mark.parametrize(
    "distribution,quantiles",
    [("point", ()), ("gaussian", ()), ("quantile", (0.1, 0.5, 0.9))],
)
def test_denormalization_shifts_locations_and_scales_spreads(distribution, quantiles):
    size = {"point": 1, "gaussian": 2}.get(distribution, 3)
    parameters = RNG.normal(size=(3, 4, size)).astype("float32")
    _, location, spread = InstanceNormalization(2)(WINDOW)
    out = np.array(
        InstanceDenormalization(distribution, quantiles or (0.1, 0.5, 0.9))(
            parameters, location, spread
        )
    )
    mean, std = np.array(location)[:, :, :1], np.array(spread)[:, :, :1]
    expected = parameters * std + mean
    if distribution == "gaussian":
        expected[..., 1] = parameters[..., 1] * std[..., 0]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_a_forecast_shifted_with_its_window_shifts_by_the_same_amount():
    window = keras.Input((8, 3))
    normalised, location, spread = InstanceNormalization(2)(window)
    last, _ = RecurrentEncoder(4, cell="gru", return_sequences=False)(normalised)
    parameters = ForecastHead(3, "gaussian")(last)
    model = keras.Model(
        window, InstanceDenormalization("gaussian")(parameters, location, spread)
    )
    shifted = WINDOW + np.array([1000.0, 0.0, 0.0], "float32")
    low, high = np.array(model(WINDOW)), np.array(model(shifted))
    np.testing.assert_allclose(high[..., 0] - low[..., 0], 1000, rtol=1e-4)
    np.testing.assert_allclose(high[..., 1], low[..., 1], rtol=1e-3)


def test_lag_difference_subtracts_the_value_lag_steps_before():
    out = np.array(LagDifference(3, 2)(WINDOW))
    np.testing.assert_allclose(
        out[..., :2], WINDOW[:, 3:, :2] - WINDOW[:, :-3, :2], rtol=1e-6
    )
    np.testing.assert_array_equal(out[..., 2], WINDOW[:, 3:, 2])


@pytest.mark.parametrize("lag", [1, 3])
def test_lag_integration_adds_the_last_value_at_the_same_phase(lag):
    history = np.arange(16.0, dtype="float32").reshape(2, 8)
    changes = np.zeros((2, 5, 2), "float32") + [[[0.5, 2.0]]]
    out = np.array(LagIntegration(lag, 5, "gaussian")(changes, history))
    leads = np.arange(1, 6)
    back = lag * np.ceil(leads / lag).astype(int) - leads
    base = history[:, 7 - back]  # the seasonal naive forecast, or the last value
    np.testing.assert_allclose(out[..., 0], base + 0.5)
    np.testing.assert_allclose(out[..., 1], 2.0)  # scales are not shifted


def _reversible_model(head="gaussian"):
    window = keras.Input((8, 3))
    normalised, location, spread = InstanceNormalization(2)(window)
    history = normalised[..., 0]
    changes = LagDifference(2, 2)(normalised)
    last, _ = RecurrentEncoder(4, cell="gru", return_sequences=False)(changes)
    parameters = ForecastHead(3, head)(last)
    parameters = LagIntegration(2, 3, head)(parameters, history)
    outputs = InstanceDenormalization(head)(parameters, location, spread)
    return keras.Model(window, outputs)


def test_every_weight_trains_and_the_keras_file_round_trips(tmp_path):
    from recurrent.losses import ForecastLoss

    model = _reversible_model()
    target = WINDOW[:, -3:, 0]
    assert_all_weights_train(model, WINDOW, target, loss=ForecastLoss("gaussian"))
    assert_keras_file_round_trip(model, WINDOW, tmp_path)
