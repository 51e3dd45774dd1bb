"""Beam search over a pointer-generator's extended vocabulary emits a source
word the vocabulary lacks, and `output_words` turns its id back into the word."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from recurrent.decoding import beam_search
from recurrent.generation import output_words
from recurrent.layers import PointerGenerator, extended_source_ids

WORDS = ["", "[UNK]", "[START]", "[END]", "the"]
V, START, END, THE = len(WORDS), 2, 3, 4


def _decode(bias: float) -> np.ndarray:
    """Decodes "the zorblax" with a switch whose bias sets p_gen."""
    source_words = tf.constant([["the", "zorblax"]])
    extended, counts = extended_source_ids(
        tf.constant([[THE, 1]]),
        tf.constant([[False, True]]),
        V,
        tf.strings.to_hash_bucket_fast(source_words, 2**62),
    )
    assert extended.numpy().tolist() == [[THE, V]] and counts.numpy().tolist() == [1]
    pointer = PointerGenerator()
    pointer.build((None, V), (None, 2), (None, 3), (None, 3), (None, 3))
    pointer.set_weights([np.zeros(3), np.zeros(3), np.zeros(3), np.array(bias)])

    def step(tokens, state, step):
        rows = ops.shape(tokens)[0]
        # The vocabulary prefers "the", then the end token; attention looks at
        # "zorblax" first, then at nothing (a zero row: nothing left to copy).
        first = ops.convert_to_tensor([0.0, 0.0, 0.0, 0.0, 5.0])
        later = ops.convert_to_tensor([0.0, 0.0, 0.0, 5.0, 0.0])
        logits = ops.broadcast_to(ops.where(step == 0, first, later), (rows, V))
        attention = ops.where(step == 0, [0.0, 1.0], [0.0, 0.0])
        attention = ops.broadcast_to(attention, (rows, 2))
        zeros = ops.zeros((rows, 3))
        log_probs = pointer(
            logits,
            attention,
            zeros,
            zeros,
            zeros,
            state["extended"],
            extra_count=1,
            log_probabilities=True,
        )
        return log_probs, state

    result = beam_search(
        step, {"extended": extended}, tf.constant([START]), END, 3, beam_size=2
    )
    return output_words(result["tokens"], tf.constant(WORDS), source_words, extended)


@pytest.mark.parametrize("bias,first_word", [(-10.0, b"zorblax"), (10.0, b"the")])
def test_beam_search_copies_an_out_of_vocabulary_source_word(bias, first_word):
    words = _decode(bias).numpy()[0]
    assert words[0] == first_word
    assert words[1] == b"[END]"


def test_an_extended_id_no_source_position_holds_gives_an_empty_word():
    words = output_words(
        tf.constant([[V + 1, THE]]),
        tf.constant(WORDS),
        tf.constant([["a", "b"]]),
        tf.constant([[V, THE]]),
    )
    assert words.numpy().tolist() == [[b"", b"the"]]
