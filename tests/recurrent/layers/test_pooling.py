import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers import AttentionPooling, SequencePooling
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

X = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)


@pytest.mark.parametrize("mode", ["max", "mean", "last"])
def test_sequence_pooling_config_and_shapes(mode):
    assert_config_round_trip(SequencePooling(mode))
    assert_symbolic_and_eager_shapes(lambda: SequencePooling(mode), X)


def test_sequence_pooling_rejects_unknown_modes():
    with pytest.raises(UserInputError, match="last, max, mean"):
        SequencePooling("median")


@pytest.mark.parametrize(
    "mode,reference",
    [
        ("max", lambda x: x.max(axis=0)),
        ("mean", lambda x: x.mean(axis=0)),
        ("last", lambda x: x[-1]),
    ],
)
def test_sequence_pooling_uses_valid_steps_only(mode, reference):
    pooled = np.array(SequencePooling(mode)(X, mask=MASK))
    for row in range(3):
        valid = X[row][MASK[row]]
        expected = reference(valid) if len(valid) else np.zeros(4)
        np.testing.assert_allclose(pooled[row], expected, atol=1e-6)


def test_attention_pooling_config_and_shapes():
    assert_config_round_trip(AttentionPooling(7))
    assert_symbolic_and_eager_shapes(lambda: AttentionPooling(7), X)


def test_attention_pooling_matches_the_formula_and_ignores_padding():
    layer = AttentionPooling(2)
    layer.build(X.shape)
    rng = np.random.default_rng(4)
    kernel, bias, context = (
        rng.normal(size=w.shape).astype("float32") for w in layer.weights
    )
    layer.set_weights([kernel, bias, context])
    mask = MASK[:2]
    pooled, weights = layer(X[:2], mask=mask, return_attention_scores=True)
    scores = np.tanh(X[:2] @ kernel + bias) @ context
    scores = np.where(mask, scores, -np.inf)
    expected_weights = np.exp(scores - scores.max(1, keepdims=True))
    expected_weights /= expected_weights.sum(1, keepdims=True)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(np.sum(weights, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.array(weights)[1, 2:], 0.0)
    np.testing.assert_allclose(
        pooled, np.einsum("bt,btf->bf", expected_weights, X[:2]), atol=1e-5
    )


def test_attention_pooling_weights_all_train():
    inputs = keras.Input((5, 4))
    model = keras.Model(inputs, keras.layers.Dense(1)(AttentionPooling(3)(inputs)))
    assert_all_weights_train(model, X, np.arange(3.0)[:, None])


@pytest.mark.parametrize(
    "layer", [lambda: SequencePooling("last"), lambda: AttentionPooling(3)]
)
def test_keras_file_round_trip_gives_identical_outputs(layer, tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, layer()(embedded))
    assert_keras_file_round_trip(
        model, np.array([[3, 4, 5, 0], [6, 7, 8, 9]]), tmp_path
    )
