import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers import AutoregressiveDecoder, ForecastHead, RecurrentEncoder
from recurrent.losses import ForecastLoss
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

FEATURES = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
HEADS = [("point", 1), ("gaussian", 2), ("quantile", 3)]


@pytest.mark.parametrize("distribution,parameters", HEADS)
def test_head_config_and_shapes(distribution, parameters):
    assert_config_round_trip(
        ForecastHead(5, distribution, (0.1, 0.5, 0.9), per_step=True)
    )
    assert_symbolic_and_eager_shapes(lambda: ForecastHead(5, distribution), FEATURES)
    assert ForecastHead(5, distribution)(FEATURES).shape == (4, 5, parameters)
    per_step = np.repeat(FEATURES[:, None], 5, axis=1)
    assert ForecastHead(5, distribution, per_step=True)(per_step).shape == (
        4,
        5,
        parameters,
    )


def test_unknown_head_lists_the_choices():
    with pytest.raises(UserInputError, match="gaussian, point, quantile"):
        ForecastHead(5, "poisson")


def test_gaussian_scales_are_softplus_and_quantiles_never_cross():
    gaussian = ForecastHead(3, "gaussian")
    gaussian.build(FEATURES.shape)
    kernel, bias = (w.numpy() for w in gaussian.weights)
    raw = (FEATURES @ kernel + bias).reshape(4, 3, 2)
    output = np.array(gaussian(FEATURES))
    np.testing.assert_allclose(output[..., 0], raw[..., 0], atol=1e-5)
    np.testing.assert_allclose(
        output[..., 1], np.log1p(np.exp(raw[..., 1])) + 1e-3, atol=1e-5
    )
    quantiles = np.array(ForecastHead(3, "quantile", (0.1, 0.5, 0.9))(10 * FEATURES))
    assert (np.diff(quantiles, axis=-1) >= 0).all()


def _seq2seq(distribution="gaussian"):
    window = keras.Input((8, 3))
    encoder = RecurrentEncoder(
        5, cell="gru", bidirectional=True, return_sequences=False
    )
    _, states = encoder(window)
    decoder = AutoregressiveDecoder(encoder.width, 4, "gru", distribution)
    return keras.Model(window, decoder(window[:, -1, :1], states))


def test_decoder_config_round_trip():
    assert_config_round_trip(
        AutoregressiveDecoder(6, 4, "lstm", "quantile", (0.2, 0.5, 0.8))
    )


def test_decoder_feeds_each_point_forecast_into_the_next_step():
    decoder = AutoregressiveDecoder(3, 4, "simple", "gaussian")
    last = np.array([[0.5], [-1.0]], "float32")
    state = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")
    output = np.array(decoder(last, [state]))
    value, states = last, [state]
    for step in range(4):
        hidden, states = decoder.step_cell(value, states)
        expected = np.array(decoder.head(hidden))[:, 0]
        np.testing.assert_allclose(output[:, step], expected, atol=1e-5)
        value = expected[:, :1]


def test_seq2seq_weights_all_train_and_survive_a_keras_file(tmp_path):
    model = _seq2seq()
    x = np.random.default_rng(2).normal(size=(6, 8, 3)).astype("float32")
    assert model(x).shape == (6, 4, 2)
    assert_keras_file_round_trip(model, x, tmp_path)
    model.compile(optimizer="sgd", loss=ForecastLoss("gaussian"))
    assert_all_weights_train(
        model, x, np.ones((6, 4), "float32"), loss=ForecastLoss("gaussian")
    )
