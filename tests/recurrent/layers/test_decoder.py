import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

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
    dict(attention="bahdanau", ordering="bahdanau", gate=True, coverage=True),
    dict(attention="local", local_mode="monotonic", ordering="bahdanau", cell="gru"),
    dict(attention="none", deep_output=True),
    dict(attention="global", deep_output=True),
    dict(attention="bahdanau", ordering="bahdanau", gate=True, deep_output=True),
]
# Every ordering / input feeding / coverage / gate combination (gate needs the
# Bahdanau ordering), over the attentions and cells.
COMBINATIONS = [
    dict(
        attention=attention,
        cell=cell,
        ordering=ordering,
        input_feeding=feeding,
        coverage=coverage,
        gate=gate,
    )
    for (ordering, gate), feeding, coverage, (attention, cell) in itertools.product(
        [("luong", False), ("bahdanau", False), ("bahdanau", True)],
        [False, True],
        [False, True],
        [("global", "lstm"), ("bahdanau", "gru"), ("local", "simple")],
    )
]


def _decoder(variant):
    return AttentionDecoder(12, 4, 8, **{"cell": "lstm", **variant})


def _states(variant):
    return STATES[:1] if variant.get("cell") in ("gru", "simple") else STATES


@pytest.mark.parametrize("variant", VARIANTS)
def test_teacher_forced_call_and_repeated_steps_agree(variant):
    decoder = _decoder(variant)
    logits, weights = decoder(TOKENS, MEMORY, MASK, _states(variant))
    assert logits.shape == (2, 5, 12) and weights.shape == (2, 5, 6)
    state = decoder.initial_step_state(_states(variant), 2, MEMORY.shape[1])
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


@pytest.mark.parametrize(
    "variant", COMBINATIONS, ids=lambda v: "-".join(str(x) for x in v.values())
)
def test_call_equals_repeated_steps_for_every_combination(variant):
    decoder = _decoder(variant)
    details = decoder(TOKENS, MEMORY, MASK, _states(variant), return_details=True)
    assert decoder.stepped == (
        variant["ordering"] == "bahdanau"
        or variant["input_feeding"]
        or variant["coverage"]
    )
    assert set(details) == {"logits", "weights", "contexts", "attentional"} | (
        {"coverage"} if variant["coverage"] else set()
    )
    logits, weights = (np.array(details[key]) for key in ("logits", "weights"))
    assert np.array(details["contexts"]).shape == (2, 5, 8)
    state = decoder.initial_step_state(_states(variant), 2, source_length=6)
    assert ("coverage" in state) == variant["coverage"]
    coverage = np.zeros((2, 6), "float32")
    for t in range(5):
        if variant["coverage"]:
            np.testing.assert_allclose(state["coverage"], coverage, atol=1e-5)
            np.testing.assert_allclose(
                np.array(details["coverage"])[:, t], coverage, atol=1e-5
            )
        step, state, step_weights = decoder.step(
            TOKENS[:, t], state, MEMORY, MASK, return_details=True
        )
        step_logits = step["logits"]
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)
        for key in ("contexts", "attentional"):
            np.testing.assert_allclose(step[key], details[key][:, t], atol=1e-5)
        np.testing.assert_allclose(step_weights, weights[:, t], atol=1e-5)
        coverage = coverage + np.array(step_weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights[1, :, 3:], 0.0)


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[1], VARIANTS[3]])
def test_stepped_and_parallel_teacher_forcing_agree(variant):
    decoder = _decoder(variant)
    assert not decoder.stepped
    parallel = decoder(TOKENS, MEMORY, MASK, _states(variant), return_details=True)
    stepped = decoder._stepped(TOKENS, MEMORY, MASK, _states(variant))
    for key in ("logits", "weights", "contexts"):
        np.testing.assert_allclose(stepped[key], parallel[key], atol=1e-5)


def test_padded_target_steps_leave_the_stepped_state_unchanged():
    decoder = _decoder(dict(attention="global", coverage=True))
    tokens = TOKENS.copy()
    tokens[1, 3:] = 0
    details = decoder(tokens, MEMORY, MASK, STATES, return_details=True)
    coverage = np.array(details["coverage"])
    np.testing.assert_allclose(coverage[1, 4], coverage[1, 3], atol=1e-6)
    assert not np.allclose(coverage[0, 4], coverage[0, 3])


def test_coverage_starts_from_source_length_and_symbolic_details():
    decoder = _decoder(dict(attention="global", coverage=True))
    with pytest.raises(ValueError, match="source_length"):
        decoder.initial_step_state(STATES, 2)
    tokens, memory = keras.Input((5,), dtype="int32"), keras.Input((6, 8))
    details = decoder(tokens, memory, return_details=True)
    assert {key: tuple(value.shape) for key, value in details.items()} == {
        "logits": (None, 5, 12),
        "weights": (None, 5, 6),
        "contexts": (None, 5, 8),
        "attentional": (None, 5, 8),
        "coverage": (None, 5, 6),
    }


@pytest.mark.parametrize("ordering", ["luong", "bahdanau"])
def test_a_stepped_decoder_runs_in_a_graph_of_unknown_lengths(ordering):
    decoder = _decoder(dict(attention="global", ordering=ordering, coverage=True))
    eager = decoder(TOKENS, MEMORY, MASK, STATES, return_details=True)
    specs = [
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None, None, 8]),
        tf.TensorSpec([None, None], tf.bool),
    ]

    @tf.function(input_signature=specs)
    def graph(tokens, memory, mask):
        details = decoder(tokens, memory, mask, STATES, return_details=True)
        assert details["attentional"].shape.rank == 3  # static ranks kept
        return details

    traced = graph(TOKENS, MEMORY, MASK)
    for key in ("logits", "weights", "coverage"):
        np.testing.assert_allclose(traced[key], eager[key], atol=1e-5)


def test_bad_combinations_name_the_fix():
    with pytest.raises(ValueError, match="ordering='bahdanau'"):
        _decoder(dict(gate=True))
    with pytest.raises(ValueError, match="other than 'none'"):
        _decoder(dict(attention="none", coverage=True))
    with pytest.raises(UserInputError, match="bahdanau, luong"):
        _decoder(dict(ordering="xu"))


def test_gate_scales_the_context_by_a_sigmoid_of_the_previous_state():
    variant = dict(attention="global", score="dot", ordering="bahdanau", gate=True)
    decoder = _decoder(variant)
    details = decoder(TOKENS, MEMORY, MASK, STATES, return_details=True)
    _, weights = decoder.attend(STATES[0], MEMORY, MASK)
    raw = np.einsum("bs,bsf->bf", np.array(weights), MEMORY)
    bias = decoder.context_gate.bias.numpy()
    beta = 1 / (1 + np.exp(-(STATES[0] @ decoder.context_gate.kernel.numpy() + bias)))
    np.testing.assert_allclose(details["contexts"][:, 0], beta * raw, atol=1e-5)


@pytest.mark.parametrize(
    "variant",
    [
        dict(attention="bahdanau", ordering="bahdanau", gate=True, coverage=True),
        dict(attention="local", ordering="bahdanau", input_feeding=True, cell="gru"),
    ],
)
def test_every_weight_trains_and_survives_a_keras_file_stepped(variant, tmp_path):
    tokens, memory = keras.Input((5,), dtype="int32"), keras.Input((6, 8))
    bridge = StateBridge(8, mode="dense")
    pooled = keras.layers.GlobalAveragePooling1D()(memory)
    states = bridge([pooled] * len(_states(variant)))
    logits, _ = _decoder(variant)(tokens, memory, initial_states=states)
    model = keras.Model([tokens, memory], logits)
    targets = np.roll(TOKENS, -1, axis=1)
    assert_all_weights_train(
        model, [TOKENS, MEMORY], targets, loss="sparse_categorical_crossentropy"
    )
    assert_keras_file_round_trip(model, [TOKENS, MEMORY], tmp_path)


@pytest.mark.parametrize("cell, count", [("lstm", 2), ("gru", 1), ("simple", 1)])
@pytest.mark.parametrize("mode", ["dense", "copy", "zero"])
def test_state_bridge_builds_one_projection_per_state(cell, count, mode, tmp_path):
    states = STATES[:count]
    bridge = StateBridge(8, mode)
    outputs = bridge(states)
    assert [tuple(s.shape) for s in outputs] == [(2, 8)] * count
    assert len(bridge.trainable_weights) == (2 * count if mode == "dense" else 0)
    inputs = [keras.Input((8,)) for _ in range(count)]
    model = keras.Model(inputs, StateBridge(8, mode)(inputs))
    assert_keras_file_round_trip(model, states, tmp_path)


@pytest.mark.parametrize(
    "attention, width", [("none", 8 + 4), ("global", 8 + 8 + 4), ("bahdanau", 20)]
)
def test_a_deep_output_reads_the_previous_word_in_the_output_layer(attention, width):
    ordering = "bahdanau" if attention == "bahdanau" else "luong"
    decoder = AttentionDecoder(
        12, 4, 8, attention=attention, ordering=ordering, deep_output=True
    )
    details = decoder(TOKENS, MEMORY, MASK, STATES, return_details=True)
    assert decoder.combine.kernel.shape == (width, 8)
    # The same RNN state and context, another previous word: another output.
    state = decoder.initial_step_state(STATES, 2, MEMORY.shape[1])
    first, _, _ = decoder.step(TOKENS[:, 0], state, MEMORY, MASK)
    other, _, _ = decoder.step(TOKENS[:, 0] % 11 + 1, state, MEMORY, MASK)
    assert not np.allclose(first, other)
    hidden = np.array(details["attentional"])
    assert np.all(np.abs(hidden) <= 1.0)  # tanh of the deep output layer
