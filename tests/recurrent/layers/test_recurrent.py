import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers import RecurrentEncoder, get_cell, get_rnn
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
    simple_rnn_reference,
)

X = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
VARIANTS = [
    dict(cell="lstm", bidirectional=False, merge_mode="concat", num_layers=1),
    dict(cell="gru", bidirectional=True, merge_mode="concat", num_layers=2),
    dict(cell="simple", bidirectional=True, merge_mode="sum", num_layers=1),
    dict(cell="lstm", bidirectional=True, merge_mode="mul", num_layers=2),
    dict(cell="gru", bidirectional=True, merge_mode="ave", num_layers=1),
]


def test_factory_returns_keras_own_layers_so_fused_kernels_stay_usable():
    assert type(get_rnn("lstm", 4)) is keras.layers.LSTM
    assert type(get_rnn("GRU", 4)) is keras.layers.GRU
    assert type(get_rnn("simple", 4)) is keras.layers.SimpleRNN
    assert type(get_cell("gru", 4)) is keras.layers.GRUCell


def test_factory_rejects_an_unknown_cell_listing_the_choices():
    with pytest.raises(
        UserInputError, match="unknown cell 'transformer'.*gru, lstm, simple"
    ):
        get_rnn("transformer", 4)


def test_unknown_merge_mode_lists_the_choices():
    with pytest.raises(UserInputError, match="concat"):
        RecurrentEncoder(4, bidirectional=True, merge_mode="max")


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    assert_config_round_trip(RecurrentEncoder(6, dropout=0.1, **variant))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_symbolic_and_eager_shapes(variant, return_sequences):
    assert_symbolic_and_eager_shapes(
        lambda: RecurrentEncoder(6, return_sequences=return_sequences, **variant), X
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_states_have_the_width_of_the_outputs(variant):
    encoder = RecurrentEncoder(6, **variant)
    outputs, states = encoder(X)
    width = 12 if variant["bidirectional"] and variant["merge_mode"] == "concat" else 6
    assert encoder.width == width
    assert outputs.shape == (3, 5, width)
    assert len(states) == (2 if variant["cell"] == "lstm" else 1)
    assert all(state.shape == (3, width) for state in states)


def test_masked_steps_change_neither_valid_outputs_nor_final_states():
    encoder = RecurrentEncoder(6, cell="lstm", num_layers=2, bidirectional=True)
    short = X[:1, :3]
    padded = np.concatenate([short, 100.0 * np.ones((1, 2, 4), "float32")], axis=1)
    mask = np.array([[True, True, True, False, False]])
    short_outputs, short_states = encoder(short)
    padded_outputs, padded_states = encoder(padded, mask=mask)
    np.testing.assert_allclose(padded_outputs[:, :3], short_outputs, atol=1e-5)
    for want, got in zip(short_states, padded_states, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    output_mask, state_masks = encoder.compute_mask(padded, mask)
    assert output_mask is mask and state_masks == [None, None]


def test_every_trainable_weight_changes_after_one_fit_step():
    inputs = keras.Input((5, 4))
    outputs, states = RecurrentEncoder(
        6, cell="lstm", num_layers=2, bidirectional=True
    )(inputs)
    pooled = keras.layers.Concatenate()(
        [keras.layers.GlobalAveragePooling1D()(outputs), *states]
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(pooled))
    assert_all_weights_train(model, X, np.ones((3, 1)))


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    outputs, states = RecurrentEncoder(5, cell="gru", num_layers=2, bidirectional=True)(
        embedded
    )
    model = keras.Model(inputs, [outputs, *states])
    tokens = np.array([[3, 4, 5, 0, 0], [6, 7, 8, 9, 1]])
    assert_keras_file_round_trip(model, tokens, tmp_path)


def test_bidirectional_simple_rnn_matches_a_numpy_reference():
    encoder = RecurrentEncoder(3, cell="simple", bidirectional=True, merge_mode="sum")
    encoder.build(X.shape)
    rng = np.random.default_rng(1)
    weights = [
        rng.normal(scale=0.5, size=w.shape).astype("float32") for w in encoder.weights
    ]
    encoder.set_weights(weights)
    forward_w, backward_w = weights[:3], weights[3:]
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)
    forward, forward_h = simple_rnn_reference(X, *forward_w, mask=mask)
    backward, backward_h = simple_rnn_reference(X, *backward_w, mask=mask, reverse=True)
    outputs, (h,) = encoder(X, mask=mask)
    valid = mask[..., None]
    np.testing.assert_allclose(
        np.where(valid, outputs, 0), np.where(valid, forward + backward, 0), atol=1e-5
    )
    np.testing.assert_allclose(h, forward_h + backward_h, atol=1e-5)
