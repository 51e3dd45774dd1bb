import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers.decoder import AttentionDecoder, StateBridge
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
)

RNG = np.random.default_rng(0)
TOKENS = RNG.integers(1, 12, size=(2, 5)).astype("int32")
MEMORY = RNG.normal(size=(2, 6, 8)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], bool)
STATES = [RNG.normal(size=(2, 8)).astype("float32") for _ in range(2)]
VARIANTS = [
    dict(attention="none"),
    dict(attention="global", score="general"),
    dict(attention="global", score="dot", input_feeding=True),
    dict(attention="local", local_mode="monotonic", window=1),
    dict(attention="local", local_mode="predictive", window=2, input_feeding=True),
    dict(attention="bahdanau", cell="gru"),
]


def _decoder(variant):
    return AttentionDecoder(12, 4, 8, **{"cell": "lstm", **variant})


def _states(variant):
    return STATES[:1] if variant.get("cell") == "gru" else STATES


@pytest.mark.parametrize("variant", VARIANTS)
def test_teacher_forced_call_and_repeated_steps_agree(variant):
    decoder = _decoder(variant)
    logits, weights = decoder(TOKENS, MEMORY, MASK, _states(variant))
    assert logits.shape == (2, 5, 12) and weights.shape == (2, 5, 6)
    state = decoder.initial_step_state(_states(variant), 2)
    for t in range(5):
        step_logits, state, step_weights = decoder.step(
            TOKENS[:, t], state, MEMORY, MASK
        )
        np.testing.assert_allclose(step_logits, np.array(logits)[:, t], atol=1e-5)
        np.testing.assert_allclose(step_weights, np.array(weights)[:, t], atol=1e-5)
    if variant["attention"] != "none":
        np.testing.assert_allclose(np.array(weights).sum(-1), 1.0, atol=1e-5)
        np.testing.assert_allclose(np.array(weights)[1, :, 3:], 0.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    assert_config_round_trip(_decoder(variant))


@pytest.mark.parametrize("variant", [VARIANTS[1], VARIANTS[4]])
def test_every_weight_trains_and_survives_a_keras_file(variant, tmp_path):
    tokens, memory = keras.Input((5,), dtype="int32"), keras.Input((6, 8))
    bridge = StateBridge(8, mode="dense")
    states = bridge([keras.layers.GlobalAveragePooling1D()(memory)] * 2)
    logits, _ = _decoder(variant)(tokens, memory, initial_states=states)
    model = keras.Model([tokens, memory], logits)
    targets = np.roll(TOKENS, -1, axis=1)
    assert_all_weights_train(
        model, [TOKENS, MEMORY], targets, loss="sparse_categorical_crossentropy"
    )
    assert_keras_file_round_trip(model, [TOKENS, MEMORY], tmp_path)


def test_state_bridge_modes():
    assert [s.shape for s in StateBridge(8, "copy")(STATES)] == [(2, 8), (2, 8)]
    assert [s.shape for s in StateBridge(3, "dense")(STATES)] == [(2, 3), (2, 3)]
    zeros = StateBridge(5, "zero")(STATES)
    assert all(np.allclose(state, 0) and state.shape == (2, 5) for state in zeros)
    with pytest.raises(ValueError, match="use mode='dense'"):
        StateBridge(3, "copy")(STATES)
    with pytest.raises(UserInputError, match="copy, dense, zero"):
        StateBridge(3, "learned")
    assert_config_round_trip(StateBridge(3, "dense"))
