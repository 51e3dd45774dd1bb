"""Documents as sentences of words: `[documents, (sentences), (words)]` token
ids, and batches of them padded per batch to `[batch, sentences, words]`.

The shape of hierarchical models (Yang et al. 2016, HAN; Nallapati et al.
2017, SummaRuNNer; Serban et al. 2016, HRED): a word-level encoder reads each
sentence (or each turn of a dialogue), a sentence-level encoder reads the
sentence vectors. Id 0 is padding at both levels.
"""

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from recurrent.data.batching import ragged_ids


def nested_ids(
    vectorizer,
    documents: Sequence[Sequence[str]],
    max_sentences: int,
    max_words: int,
) -> tf.RaggedTensor:
    """`[documents, (sentences), (words)]` int ids of documents given as lists
    of sentences: the first `max_sentences` sentences of each, each cut to its
    first `max_words` words by `vectorizer` (a `TextVectorization` padding to
    the longest text). A sentence with no word left (only punctuation) has no
    ids; the model treats it as padding."""
    kept = [list(document)[:max_sentences] for document in documents]
    flat = [sentence for document in kept for sentence in document]
    words = ragged_ids(vectorizer, flat, max_words)
    return tf.RaggedTensor.from_row_lengths(
        tf.cast(words, tf.int32), np.array([len(d) for d in kept], dtype="int64")
    )


def sentence_targets(
    targets: Sequence[Sequence[float]], max_sentences: int
) -> tf.RaggedTensor:
    """`[documents, (sentences)]` float targets, cut like `nested_ids`."""
    kept = [list(row)[:max_sentences] for row in targets]
    return tf.ragged.constant(kept, dtype=tf.float32, ragged_rank=1, inner_shape=())


def document_batches(
    ids: tf.RaggedTensor,
    targets: tf.RaggedTensor,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    max_batches: int = 0,
    pad_target: float = -1.0,
) -> tf.data.Dataset:
    """A `(tokens, targets)` dataset: `tokens` `[batch, sentences, words]`
    padded with 0 to the batch's longest document and sentence, `targets`
    `[batch, sentences]` padded with `pad_target` (which a loss can mask).

    Documents of similar sentence counts are batched together (sorted in
    blocks of 20 batches after shuffling), so little of a batch is padding.

    Args:
        ids: `[documents, (sentences), (words)]` from `nested_ids`.
        targets: `[documents, (sentences)]`, one per sentence.
        batch_size: documents per batch.
        shuffle: reshuffle every epoch, with `seed`.
        max_batches: if positive, at most this many batches (smoke runs).
    """
    if int(ids.nrows()) != int(targets.nrows()):
        raise ValueError(f"{ids.nrows()} documents but {targets.nrows()} target rows")
    count = int(ids.nrows())
    batches = -(-count // batch_size)
    dataset = tf.data.Dataset.from_tensor_slices((ids, targets))
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    block = 20 * batch_size
    dataset = dataset.batch(block).flat_map(_sorted_by_length)
    dataset = dataset.ragged_batch(batch_size).map(
        lambda tokens, target: (tokens.to_tensor(0), target.to_tensor(pad_target))
    )
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    if max_batches > 0:
        dataset = dataset.take(max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _sorted_by_length(tokens: tf.RaggedTensor, targets: tf.RaggedTensor):
    """The documents of one block, fewest sentences first."""
    order = tf.argsort(tokens.row_lengths(), stable=True)
    return tf.data.Dataset.from_tensor_slices(
        (tf.gather(tokens, order), tf.gather(targets, order))
    )
