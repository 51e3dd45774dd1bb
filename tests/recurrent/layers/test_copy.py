import keras
import numpy as np
import pytest
import tensorflow as tf

from recurrent.layers.copy import (
    PointerGenerator,
    SwitchingPointer,
    coverage_loss,
    cumulative_coverage,
    decoder_input_ids,
    extended_source_ids,
    extended_target_ids,
    first_copies,
)
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
)

RNG = np.random.default_rng(0)
V, S = 10, 5
LOGITS = RNG.normal(size=(2, 3, V)).astype("float32")
ATTENTION = np.array(
    [[[0.5, 0.2, 0.2, 0.1, 0.0]] * 3, [[0.0, 0.0, 0.0, 0.0, 0.0]] * 3], "float32"
)
CONTEXT = RNG.normal(size=(2, 3, 4)).astype("float32")
STATE = RNG.normal(size=(2, 3, 6)).astype("float32")
INPUTS = RNG.normal(size=(2, 3, 3)).astype("float32")
# Row 0 copies ids 4 (in vocabulary), 10 (twice) and 11; row 1 is all padding.
SOURCE_IDS = np.array([[4, 10, 11, 10, 0], [0, 0, 0, 0, 0]], "int32")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _call(layer, **kwargs):
    return layer(LOGITS, ATTENTION, CONTEXT, STATE, INPUTS, SOURCE_IDS, **kwargs)


def test_the_distribution_matches_the_paper_and_sums_to_one():
    layer = PointerGenerator()
    probabilities, p_gen = _call(layer, extra_count=3, return_switch=True)
    probabilities, p_gen = np.array(probabilities), np.array(p_gen)
    assert probabilities.shape == (2, 3, V + 3) and p_gen.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    wc, ws, wx, b = (w.numpy() for w in layer.weights)
    expected_p_gen = 1 / (1 + np.exp(-(CONTEXT @ wc + STATE @ ws + INPUTS @ wx + b)))
    np.testing.assert_allclose(p_gen[0], expected_p_gen[0], atol=1e-6)
    expected = np.zeros((3, V + 3))
    expected[:, :V] = expected_p_gen[0, :, None] * _softmax(LOGITS[0])
    copy = (1 - expected_p_gen[0])[:, None]
    expected[:, 4] += copy[:, 0] * 0.5
    expected[:, 10] += copy[:, 0] * (0.2 + 0.1)  # a repeated word adds up
    expected[:, 11] += copy[:, 0] * 0.2
    np.testing.assert_allclose(probabilities[0], expected, atol=1e-6)
    np.testing.assert_allclose(probabilities[0, :, 12], 0.0)  # unused extra id


def test_a_row_of_padding_gives_the_vocabulary_distribution_and_no_nan():
    layer = PointerGenerator()
    probabilities, p_gen = _call(layer, return_switch=True)  # n from the ids: 2
    log_probabilities = _call(layer, log_probabilities=True)
    assert np.array(probabilities).shape == (2, 3, V + 2)
    assert np.isfinite(np.array(log_probabilities)).all()
    np.testing.assert_allclose(np.array(p_gen)[1], 1.0)
    np.testing.assert_allclose(
        np.array(probabilities)[1, :, :V], _softmax(LOGITS[1]), atol=1e-6
    )
    np.testing.assert_allclose(np.array(probabilities)[1, :, V:], 0.0)
    np.testing.assert_allclose(
        np.exp(np.array(log_probabilities))[0], np.array(probabilities)[0], atol=1e-6
    )


def test_one_step_and_a_tensor_extra_count():
    layer = PointerGenerator()
    sequence = np.array(_call(layer, extra_count=2))
    step = layer(
        LOGITS[:, 1],
        ATTENTION[:, 1],
        CONTEXT[:, 1],
        STATE[:, 1],
        INPUTS[:, 1],
        SOURCE_IDS,
        extra_count=tf.constant(2),
    )
    np.testing.assert_allclose(step, sequence[:, 1], atol=1e-6)


def test_config_weights_train_and_keras_file(tmp_path):
    assert_config_round_trip(PointerGenerator(epsilon=1e-8))
    inputs = [
        keras.Input((3, V)),
        keras.Input((3, S)),
        keras.Input((3, 4)),
        keras.Input((3, 6)),
        keras.Input((3, 3)),
        keras.Input((S,), dtype="int32"),
    ]
    logits = keras.layers.Dense(V)(inputs[0])
    probabilities = PointerGenerator()(logits, *inputs[1:], extra_count=2)
    model = keras.Model(inputs, probabilities)
    attention = ATTENTION.copy()
    attention[1] = [0.2] * 5
    x = [LOGITS, attention, CONTEXT, STATE, INPUTS, SOURCE_IDS]
    targets = np.array([[10, 4, 11], [1, 2, 3]])
    assert_all_weights_train(model, x, targets, loss="sparse_categorical_crossentropy")
    assert_keras_file_round_trip(model, x, tmp_path)


def test_extended_ids_follow_first_occurrence_and_repeated_words_share_one():
    words = [["the", "zorp", "blix", "zorp", "cat", "blix", ""], ["qux"] + [""] * 6]
    keys = tf.strings.to_hash_bucket_fast(tf.constant(words), 2**62)
    in_vocabulary = {"the": 2, "cat": 3}
    source_ids = np.array(
        [[in_vocabulary.get(word, 1) if word else 0 for word in row] for row in words]
    )
    is_oov = source_ids == 1
    extended, counts = extended_source_ids(source_ids, is_oov, V, keys)
    np.testing.assert_array_equal(
        extended, [[2, 10, 11, 10, 3, 11, 0], [10, 0, 0, 0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(counts, [2, 1])
    np.testing.assert_array_equal(
        decoder_input_ids(np.array([[2, 10, 11, 9, 0]]), V), [[2, 1, 1, 9, 0]]
    )
    np.testing.assert_array_equal(
        decoder_input_ids(np.array([12]), V, unknown_id=3), [3]
    )


def test_coverage_loss_is_zero_without_revisits_and_grows_with_them():
    once = np.eye(3, 4, dtype="float32")[None]  # each step a new position
    assert float(coverage_loss(once, cumulative_coverage(once))) == 0.0
    twice = np.array([[[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]]], "float32")
    thrice = np.array([[[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]], "float32")
    loss_twice = float(coverage_loss(twice, cumulative_coverage(twice)))
    loss_thrice = float(coverage_loss(thrice, cumulative_coverage(thrice)))
    assert loss_twice == pytest.approx(1 / 3) and loss_thrice == pytest.approx(2 / 3)
    masked = coverage_loss(thrice, cumulative_coverage(thrice), np.array([[1, 1, 0]]))
    assert float(masked) == pytest.approx(0.5)
    np.testing.assert_allclose(cumulative_coverage(thrice)[0, :, 0], [0, 1, 2])


def test_the_switching_pointer_scores_nallapatis_objective():
    layer = SwitchingPointer()
    # Row 0 holds OOV ids 10 (twice) and 11: pointable at positions 1 and 2.
    log_probs, p = _call(
        layer, extra_count=3, log_probabilities=True, return_switch=True
    )
    log_probs, p = np.array(log_probs), np.array(p)
    assert log_probs.shape == (2, 3, V + 3)
    vocabulary = np.log(_softmax(LOGITS[0]))
    # An in-vocabulary target: log p + log P_vocab(w).
    np.testing.assert_allclose(
        log_probs[0, :, 4], np.log(p[0]) + vocabulary[:, 4], atol=1e-5
    )
    # An OOV target: log(1 - p) + log a at its first position only (0.2, not 0.2 + 0.1).
    np.testing.assert_allclose(log_probs[0, :, 10], np.log((1 - p[0]) * 0.2), atol=1e-5)
    np.testing.assert_allclose(log_probs[0, :, 11], np.log((1 - p[0]) * 0.2), atol=1e-5)
    # Row 1 has nothing to point to: it always generates.
    np.testing.assert_allclose(p[1], 1.0)
    np.testing.assert_allclose(
        np.exp(log_probs[1, :, :V]), _softmax(LOGITS[1]), atol=1e-6
    )


def test_the_hard_switch_keeps_one_branch():
    layer = SwitchingPointer()
    soft, p = _call(layer, extra_count=2, return_switch=True)
    layer.bias.assign(-20.0)  # the switch points wherever it can
    hard = np.array(_call(layer, extra_count=2, hard=True))
    assert np.allclose(hard[0, :, :V], 0.0) and hard[0, :, 10:].sum() > 0.3
    layer.bias.assign(20.0)  # ... or generates
    hard = np.array(_call(layer, extra_count=2, hard=True))
    np.testing.assert_allclose(hard[0, :, V:], 0.0)
    np.testing.assert_allclose(hard[0].sum(-1), 1.0, atol=1e-5)
    assert_config_round_trip(SwitchingPointer(epsilon=1e-8))


def test_first_copies_and_extended_targets():
    np.testing.assert_array_equal(
        first_copies(SOURCE_IDS, V),
        [[False, True, True, False, False], [False] * 5],
    )
    words = tf.constant([["a", "zorp", "blix", "zorp"], ["qux", "", "", ""]])
    source_keys = tf.strings.to_hash_bucket_fast(words, 2**62)
    source_extended = np.array([[3, 10, 11, 10], [10, 0, 0, 0]])
    targets = tf.constant([["blix", "a", "new", "zorp"], ["zorp", "qux", "", ""]])
    target_keys = tf.strings.to_hash_bucket_fast(targets, 2**62)
    target_ids = np.array([[1, 3, 1, 1], [1, 1, 0, 0]])
    np.testing.assert_array_equal(
        extended_target_ids(target_ids, target_keys, source_extended, source_keys, V),
        [[11, 3, 1, 10], [1, 10, 0, 0]],
    )
