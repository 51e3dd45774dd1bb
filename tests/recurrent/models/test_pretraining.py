import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from recurrent.errors import UserInputError
from recurrent.layers import RecurrentEncoder
from recurrent.models.pretraining import (
    check_pretrainable,
    pretrain_language_model,
    shifted_targets,
)

CYCLE = 6  # words 2..7 follow each other in a fixed cycle


def _cyclic_texts(count, seed):
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(count):
        start, length = rng.integers(CYCLE), rng.integers(4, 12)
        texts.append([2 + (start + i) % CYCLE for i in range(length)])
    return tf.ragged.constant(texts, tf.int64)


def test_shifted_targets_are_the_next_and_previous_words_with_padding():
    following, preceding = shifted_targets(tf.constant([[5, 6, 7, 0]]))
    assert following.numpy().tolist() == [[6, 7, 0, 0]]
    assert preceding.numpy().tolist() == [[0, 5, 6, 7]]


@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_encoder_learns_to_predict_words_a_unigram_guess_cannot(bidirectional):
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(2 + CYCLE, 8, mask_zero=True)
    encoder = RecurrentEncoder(16, cell="gru", bidirectional=bidirectional)
    embedding.build((None, None))
    before = embedding.get_weights()[0].copy()
    history = pretrain_language_model(
        embedding,
        encoder,
        2 + CYCLE,
        _cyclic_texts(256, 0),
        _cyclic_texts(64, 1),
        epochs=12,
        batch_size=32,
        optimizer=keras.optimizers.Adam(0.02),
        seed=0,
    )
    # Guessing from word frequencies costs log(6) nats a word; the cycle is
    # learned in both directions.
    if bidirectional:
        losses = [
            history[f"val_{name}_loss"][-1] for name in ("next_word", "previous_word")
        ]
    else:
        losses = history["val_loss"][-1:]
    assert max(losses) < 0.25 * math.log(CYCLE)
    assert not np.allclose(embedding.get_weights()[0], before)


@pytest.mark.parametrize(
    ("settings", "fix"),
    [
        ((True, 2, "concat"), "--set layers=1"),
        ((True, 1, "sum"), "--set merge_mode=concat"),
    ],
)
def test_encoders_that_see_the_predicted_word_are_refused(settings, fix):
    with pytest.raises(UserInputError, match=fix):
        check_pretrainable(*settings)
    check_pretrainable(False, 2, "sum")  # a forward stack is fine
