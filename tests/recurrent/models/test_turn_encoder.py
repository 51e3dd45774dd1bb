"""The HRED turn encoder: turns read on their own, a context over them, and
a memory in the source's order."""

import keras
import numpy as np
import pytest

from recurrent.models.encoders import TurnEncoder
from recurrent.models.seq2seq import Seq2Seq

USER, BOT = 2, 3


@pytest.fixture(scope="module")
def encoder():
    keras.utils.set_random_seed(0)
    layer = TurnEncoder(30, 6, 8, marker_ids=[USER, BOT], max_turns=3, name="encoder")
    layer.build()
    return layer


def test_turn_positions_follow_the_markers(encoder):
    source = np.array([[5, USER, 7, 8, BOT, 9, 0], [BOT, 4, USER, 6, 6, 0, 0]])
    turn, offset, _ = encoder.turn_positions(keras.ops.convert_to_tensor(source))
    valid = source != 0
    np.testing.assert_array_equal(
        np.asarray(turn)[valid], [0, 1, 1, 1, 2, 2, 0, 0, 1, 1, 1]
    )
    np.testing.assert_array_equal(
        np.asarray(offset)[valid], [0, 0, 1, 2, 0, 1, 0, 1, 0, 1, 2]
    )


def test_each_turn_is_read_on_its_own(encoder):
    """A turn's word states do not depend on the other turns (HRED reads each
    utterance separately); the context states do."""
    history = np.array([[BOT, 11, 12, 13, USER, 14, 15]])
    other = np.array([[BOT, 16, 17, 0, USER, 14, 15]])
    alone = np.array([[USER, 14, 15]])
    memory, mask, states = encoder(history)
    memory_other, _, states_other = encoder(np.array([[BOT, 16, 17, USER, 14, 15]]))
    memory_alone, _, _ = encoder(alone)
    np.testing.assert_allclose(memory[0, 4:], memory_alone[0], atol=1e-6)
    np.testing.assert_allclose(memory_other[0, 3:], memory_alone[0], atol=1e-6)
    assert not np.allclose(states[0], states_other[0], atol=1e-4)
    assert np.asarray(mask).all()
    _, padded_mask, _ = encoder(other)
    assert not np.asarray(padded_mask)[0, 3]


def test_padding_is_masked_and_an_empty_source_reads_as_nothing(encoder):
    memory, mask, states = encoder(np.array([[USER, 5, 0, 0]]))
    assert np.asarray(mask).tolist() == [[True, True, False, False]]
    assert np.all(np.asarray(memory)[0, 2:] == 0)
    memory, mask, states = encoder(np.zeros((2, 0), "int32"))
    assert memory.shape == (2, 1, 8) and not np.asarray(mask).any()
    assert [tuple(state.shape) for state in states] == [(2, 8), (2, 8)]


def test_a_seq2seq_over_turns_saves_and_reloads(tmp_path):
    encoder = TurnEncoder(20, 4, 6, marker_ids=[USER, BOT], max_turns=2)
    model = Seq2Seq(encoder, 20, embedding_dim=4, units=6, share_embeddings=True)
    inputs = {
        "source": np.array([[BOT, 5, 6, USER, 7]]),
        "target_in": np.array([[1, 8, 9]]),
    }
    logits = model(inputs)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored(inputs), logits, atol=1e-6)
    assert restored.encoder.marker_ids == [USER, BOT]


def test_markers_are_required():
    with pytest.raises(ValueError, match="marker_ids"):
        TurnEncoder(10, 4, 4)
