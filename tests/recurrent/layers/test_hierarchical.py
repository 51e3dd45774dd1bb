import keras
import numpy as np
import pytest

from recurrent.layers.hierarchical import HierarchicalEncoder
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
    assert_symbolic_and_eager_shapes,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3, 4, 5)).astype("float32")


def _words_model(**settings) -> keras.Model:
    tokens = keras.Input((None, None), dtype="int32")
    embedded = keras.layers.Embedding(30, 5, mask_zero=True)(tokens)
    states, document = HierarchicalEncoder(4, **settings)(embedded)
    return keras.Model(tokens, [states, document])


@pytest.mark.parametrize("pooling", ["mean", "max", "last", "attention"])
def test_config_and_shapes(pooling):
    assert_config_round_trip(HierarchicalEncoder(3, cell="lstm", pooling=pooling))
    assert_symbolic_and_eager_shapes(lambda: HierarchicalEncoder(3, pooling=pooling), X)
    states, document = HierarchicalEncoder(3, pooling=pooling)(X)
    assert tuple(states.shape) == (2, 3, 6) and tuple(document.shape) == (2, 6)


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling must be one of"):
        HierarchicalEncoder(3, pooling="median")


def test_padding_words_and_sentences_change_nothing():
    """A padded document gives the states of the same document unpadded."""
    model = _words_model(pooling="mean")
    document = np.array([[[3, 4, 5], [6, 7, 0]]])
    padded = np.zeros((1, 4, 5), "int32")
    padded[0, :2, :3] = document[0]
    states, final = model(document)
    padded_states, padded_final = model(padded)
    np.testing.assert_allclose(padded_states[:, :2], states, atol=1e-5)
    np.testing.assert_allclose(padded_final, final, atol=1e-5)


def test_the_sentence_level_reads_sentences_in_order():
    """Swapping two sentences changes the state of a third one: the
    sentence-level encoder is recurrent, not a bag of sentences."""
    model = _words_model()
    first = np.array([[[3, 4], [5, 6], [7, 8]]])
    swapped = first[:, [1, 0, 2]]
    states, _ = model(first)
    swapped_states, _ = model(swapped)
    assert not np.allclose(states[0, 2], swapped_states[0, 2], atol=1e-4)


def test_every_weight_trains_and_the_layer_saves(tmp_path):
    tokens = keras.Input((None, None), dtype="int32")
    embedded = keras.layers.Embedding(30, 5, mask_zero=True)(tokens)
    states, document = HierarchicalEncoder(3, pooling="attention")(embedded)
    output = keras.layers.Dense(1)(document)
    model = keras.Model(tokens, output)
    ids = RNG.integers(1, 30, size=(4, 3, 4))
    assert_all_weights_train(model, ids, np.arange(4.0)[:, None])
    assert_keras_file_round_trip(model, ids, tmp_path)


def test_word_means_join_each_sentence_vector():
    """With `word_means` the sentence-level encoder reads the pooled word
    states and the mean word vector: its input is wider by the features."""
    plain, with_means = HierarchicalEncoder(3), HierarchicalEncoder(3, word_means=True)
    plain.build(X.shape)
    with_means.build(X.shape)
    gru = 3 * 3 * 2  # three gates, two directions: kernel rows per input feature
    extra = with_means.sentence_encoder.count_params()
    assert extra - plain.sentence_encoder.count_params() == gru * X.shape[-1]
    assert_config_round_trip(with_means)
    assert_symbolic_and_eager_shapes(lambda: HierarchicalEncoder(3, word_means=True), X)
