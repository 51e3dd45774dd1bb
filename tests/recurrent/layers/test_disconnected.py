import keras
import numpy as np
import pytest

from recurrent.layers import DisconnectedRNN
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
    simple_rnn_reference,
)

X = np.random.default_rng(0).normal(size=(2, 7, 4)).astype("float32")


def test_config_round_trip():
    assert_config_round_trip(DisconnectedRNN(5, window=3, cell="lstm", dropout=0.1))


def test_symbolic_and_eager_shapes():
    assert_symbolic_and_eager_shapes(lambda: DisconnectedRNN(5, window=3), X)


def test_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        DisconnectedRNN(5, window=0)


def test_each_state_is_an_rnn_over_the_last_window_tokens_only():
    layer = DisconnectedRNN(3, window=3, cell="simple")
    layer.build(X.shape)
    rng = np.random.default_rng(2)
    weights = [
        rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.weights
    ]
    layer.set_weights(weights)
    outputs = np.array(layer(X))
    for t in range(X.shape[1]):
        window = X[:, max(0, t - 2) : t + 1]
        _, h = simple_rnn_reference(window, *weights)
        np.testing.assert_allclose(outputs[:, t], h, atol=1e-5)


def test_a_token_outside_the_window_has_no_influence():
    layer = DisconnectedRNN(4, window=3)
    changed_far, changed_near = X.copy(), X.copy()
    changed_far[:, 2] += 5.0  # position 2 is outside the window of position 5 (3, 4, 5)
    changed_near[:, 3] += 5.0
    base = np.array(layer(X))
    np.testing.assert_allclose(
        np.array(layer(changed_far))[:, 5:], base[:, 5:], atol=1e-6
    )
    assert not np.allclose(np.array(layer(changed_near))[:, 5], base[:, 5])


def test_masked_tokens_are_skipped_and_masked_positions_are_zero():
    layer = DisconnectedRNN(4, window=3)
    mask = np.array([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]], bool)
    garbage = X.copy()
    garbage[0, 5:] = 50.0
    outputs = np.array(layer(garbage, mask=mask))
    np.testing.assert_allclose(outputs[0, 5:], 0.0)
    np.testing.assert_allclose(outputs[0, :5], np.array(layer(X[:1, :5]))[0], atol=1e-6)
    assert layer.compute_mask(X, mask) is mask


def test_every_trainable_weight_changes_after_one_fit_step():
    inputs = keras.Input((7, 4))
    pooled = keras.layers.GlobalMaxPooling1D()(
        DisconnectedRNN(5, window=3, cell="lstm")(inputs)
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(pooled))
    assert_all_weights_train(model, X, np.ones((2, 1)))


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, DisconnectedRNN(5, window=2)(embedded))
    assert_keras_file_round_trip(
        model, np.array([[3, 4, 5, 0], [6, 7, 8, 9]]), tmp_path
    )
