import keras
import numpy as np
import pytest

from recurrent.layers.extractive import TERMS, NoveltyCell, SentenceExtractor
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

RNG = np.random.default_rng(0)
STATES = RNG.normal(size=(2, 5, 4)).astype("float32")


def test_config_and_shapes():
    assert_config_round_trip(SentenceExtractor(("content", "novelty"), 7, 3))
    assert_config_round_trip(NoveltyCell(4))
    assert_symbolic_and_eager_shapes(lambda: SentenceExtractor(), STATES)


def test_unknown_terms_are_refused():
    with pytest.raises(ValueError, match="unknown score terms"):
        SentenceExtractor(("content", "lenght"))


@pytest.mark.parametrize("off", TERMS)
def test_a_term_switched_off_has_no_weights(off):
    on = SentenceExtractor()
    without = SentenceExtractor([term for term in TERMS if term != off])
    on.build(STATES.shape)
    without.build(STATES.shape)
    assert without.count_params() < on.count_params()


def test_padding_sentences_get_a_very_negative_logit_and_change_nothing():
    layer = SentenceExtractor(max_positions=5)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    logits = np.array(layer(STATES, mask=mask))
    assert (logits[0, 3:] < -1e8).all()
    alone = np.array(layer(STATES[:1, :3]))
    np.testing.assert_allclose(logits[0, :3], alone[0], atol=1e-5)


def test_without_novelty_a_sentence_scores_the_same_whatever_came_before():
    layer = SentenceExtractor(("content", "salience"))
    changed = STATES.copy()
    changed[:, 0] = -changed[:, 0]
    # The document vector changes too; compare with salience off.
    content_only = SentenceExtractor(("content",))
    content_only.build(STATES.shape)
    a, b = content_only(STATES), content_only(changed)
    np.testing.assert_allclose(np.array(a)[:, 1:], np.array(b)[:, 1:], atol=1e-6)
    assert layer(STATES).shape == (2, 5)


def test_novelty_lowers_a_sentence_that_repeats_the_summary_so_far():
    """With W_r = I and only content and novelty on, a sentence equal to an
    earlier, likely sentence scores lower than the same sentence first."""
    layer = SentenceExtractor(("content", "novelty"))
    sentence = np.ones((1, 1, 4), "float32")
    other = -np.ones((1, 1, 4), "float32")
    layer.build((None, None, 4))
    layer.content.assign(np.ones(4, "float32"))  # the sentence is likely
    layer.novelty_steps.cell.kernel.assign(np.eye(4, dtype="float32"))
    repeated = np.array(layer(np.concatenate([sentence, sentence], axis=1)))
    fresh = np.array(layer(np.concatenate([other, sentence], axis=1)))
    assert repeated[0, 1] < repeated[0, 0]
    assert repeated[0, 1] < fresh[0, 1]
    # h^T W_r tanh(s) with s = p_0 * h: 4 * tanh(sigmoid(4)) subtracted.
    p0 = 1 / (1 + np.exp(-4.0))
    assert repeated[0, 1] == pytest.approx(4 - 4 * np.tanh(p0), abs=1e-5)


def test_positions_give_each_index_and_tenth_its_own_weight():
    layer = SentenceExtractor(("position", "relative_position"), 3, 2)
    layer.build(STATES.shape)
    layer.position.assign([1.0, 2.0, 3.0])
    layer.relative_position.assign([10.0, 20.0])
    logits = np.array(layer(STATES[:1]))[0]
    # Five sentences: absolute 0,1,2,2,2 (capped); relative halves 0,0,0,1,1.
    np.testing.assert_allclose(logits, [11, 12, 13, 23, 23], atol=1e-6)


def test_every_weight_trains_and_the_layer_saves(tmp_path):
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, SentenceExtractor(max_positions=5)(inputs))
    targets = (RNG.random((2, 5)) > 0.5).astype("float32")
    assert_all_weights_train(model, STATES, targets)
    assert_keras_file_round_trip(model, STATES, tmp_path)
