import keras
import numpy as np
import pytest
from scipy.stats import norm

from recurrent.losses import ForecastLoss, gaussian_nll, pinball

Y = np.array([[1.0, -2.0]], "float32")


def test_gaussian_nll_is_the_negative_log_density():
    mean, scale = np.array([[0.5, 0.0]], "float32"), np.array([[2.0, 0.5]], "float32")
    expected = -norm.logpdf(Y, mean, scale)
    np.testing.assert_allclose(gaussian_nll(Y, mean, scale), expected, rtol=1e-5)
    loss = ForecastLoss("gaussian")(Y, np.stack([mean, scale], -1))
    assert float(loss) == pytest.approx(expected.mean(), rel=1e-5)


def test_pinball_weights_under_and_over_forecasts_by_the_level():
    predictions = np.array(
        [[[0.0, 2.0], [0.0, 2.0]]], "float32"
    )  # two quantiles per lead
    losses = np.array(pinball(Y, predictions, (0.1, 0.9)))
    # y=1: below 2 by 1 (level 0.9 -> 0.1), above 0 by 1 (level 0.1 -> 0.1)
    np.testing.assert_allclose(losses[0, 0], [0.1, 0.1], atol=1e-6)
    # y=-2: below 0 by 2 (0.9 * 2 = 1.8 for level 0.1), below 2 by 4 (0.1 * 4)
    np.testing.assert_allclose(losses[0, 1], [1.8, 0.4], atol=1e-6)


def test_point_loss_is_the_mean_squared_error_and_config_round_trips():
    loss = ForecastLoss("point")
    assert float(loss(Y, np.zeros((1, 2, 1), "float32"))) == pytest.approx(2.5)
    restored = keras.losses.deserialize(
        keras.losses.serialize(ForecastLoss("quantile", (0.2, 0.8)))
    )
    assert restored.distribution == "quantile" and restored.quantiles == (0.2, 0.8)


def test_masked_binary_crossentropy_ignores_padding_and_matches_keras():
    from recurrent.losses import MaskedBinaryCrossentropy

    logits = np.array([[2.0, -1.0, -1e9], [0.5, 3.0, 4.0]], "float32")
    targets = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]], "float32")
    per_example = np.array(MaskedBinaryCrossentropy().call(targets, logits))
    reference = keras.losses.binary_crossentropy
    first = reference(targets[0, :2], logits[0, :2], from_logits=True)
    second = reference(targets[1], logits[1], from_logits=True)
    np.testing.assert_allclose(per_example, [first, second], rtol=1e-5)
    assert np.isfinite(per_example).all()
