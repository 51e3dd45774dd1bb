import numpy as np
import pytest
import tensorflow as tf

from recurrent.data.batching import (
    kept_length,
    length_bucketed,
    quantile_boundaries,
    ragged_ids,
)
from recurrent.data.tokenizers import fit_vocabulary, word_vectorizer


def test_kept_length_follows_the_data_below_the_cap():
    lengths = np.arange(1, 101)  # 1 to 100 tokens
    assert kept_length(lengths, 95, cap=400) == 96
    assert kept_length(lengths, 100, cap=400) == 100
    assert kept_length(lengths, 99, cap=50) == 50
    assert kept_length([0, 0], 99, cap=50) == 1
    assert kept_length([], 99, cap=50) == 50


def test_ragged_ids_keep_each_texts_first_tokens_without_padding():
    vectorizer = fit_vocabulary(word_vectorizer(100, None), ["a b c d e", "f g"])
    ids = ragged_ids(vectorizer, ["a b c d e", "f g", "zzz a"], length=3)
    assert ids.row_lengths().numpy().tolist() == [3, 2, 2]
    assert ids[2, 0].numpy() == 1  # out of vocabulary, not padding


def _texts(lengths):
    return tf.ragged.constant([list(range(2, 2 + n)) for n in lengths], tf.int64)


def test_bucketed_batches_hold_texts_of_similar_length_each_once_per_epoch():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(3, 10, 300), rng.integers(200, 400, 100)])
    ids = _texts(lengths)
    targets = np.arange(len(lengths), dtype="int32")
    dataset = length_bucketed(ids, targets, batch_size=16, shuffle=True, seed=1)
    epochs = [list(dataset), list(dataset)]
    assert dataset.cardinality() == len(epochs[0]) == len(epochs[1])
    for batches in epochs:
        seen = np.concatenate([batch_targets.numpy() for _, batch_targets in batches])
        assert sorted(seen) == targets.tolist()
        for tokens, batch_targets in batches:
            true_lengths = lengths[batch_targets.numpy()]
            # Padded only to the longest text of the batch, and no short text
            # shares a batch with a long one.
            assert tokens.shape[1] == true_lengths.max()
            assert true_lengths.max() < 10 or true_lengths.min() >= 200
    first = [targets.numpy().tolist() for _, targets in epochs[0]]
    second = [targets.numpy().tolist() for _, targets in epochs[1]]
    assert first != second  # reshuffled every epoch


@pytest.mark.parametrize("count", [5, 200])
def test_few_texts_make_one_bucket_and_max_batches_cuts_the_epoch(count):
    lengths = np.arange(1, count + 1)
    assert quantile_boundaries(lengths, batch_size=64) == []
    dataset = length_bucketed(
        _texts(lengths), np.zeros(count, "int32"), batch_size=2, max_batches=2
    )
    assert len(list(dataset)) == 2
