"""Variable-length token ids: how many to keep, and batches grouped by length
so little of each batch is padding."""

import math

import numpy as np
import tensorflow as tf


def kept_length(lengths, percentile: float, cap: int) -> int:
    """Tokens kept per text: the `percentile` of the training `lengths`
    (rounded up), at most `cap` and at least 1. Texts of one sentence keep a
    few dozen tokens, not the `cap` a long article would need."""
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        return max(1, cap)
    return int(max(1, min(cap, math.ceil(np.percentile(lengths, percentile)))))


def ragged_ids(vectorizer, texts, length: int, chunk: int = 4096) -> tf.RaggedTensor:
    """`[texts, (tokens)]` ids of `texts` by a Keras `TextVectorization` that
    pads to the longest text (`output_sequence_length=None`), each cut to its
    first `length` tokens, padding removed; `chunk` texts at a time, so one
    long text does not pad them all."""
    texts = list(texts)
    parts = [
        tf.RaggedTensor.from_tensor(
            vectorizer(tf.constant(texts[start : start + chunk], tf.string)), padding=0
        )[:, :length]
        for start in range(0, max(len(texts), 1), chunk)
    ]
    return tf.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def quantile_boundaries(
    lengths: np.ndarray, batch_size: int, batches_per_bucket: int = 4
) -> list[int]:
    """Bucket boundaries at quantiles of `lengths`, so each bucket holds about
    `batches_per_bucket` batches or more: short texts are batched with short
    ones, and few batches are left part-full at the end of a bucket."""
    lengths = np.asarray(lengths)
    buckets = min(32, len(lengths) // (batch_size * batches_per_bucket))
    if buckets < 2:
        return []
    cuts = np.quantile(lengths, np.linspace(0, 1, buckets + 1)[1:-1])
    return sorted({int(cut) + 1 for cut in cuts if cut < lengths.max()})


def length_bucketed(
    ids: tf.RaggedTensor,
    targets: np.ndarray,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    max_batches: int = 0,
) -> tf.data.Dataset:
    """A `(ids, targets)` dataset whose batches hold texts of similar length,
    each padded (with 0) only to its longest text.

    Every text is seen once per epoch; with `shuffle` the texts are reshuffled
    each epoch before bucketing, so batches differ between epochs. The dataset's
    cardinality is known (each bucket yields full batches, then its remainder).

    Args:
        ids: `[texts, (tokens)]` int ids without padding.
        targets: one target per text.
        batch_size: texts per batch.
        shuffle: reshuffle every epoch, with `seed`.
        max_batches: if positive, at most this many batches (smoke runs).
    """
    lengths = ids.row_lengths().numpy()
    boundaries = quantile_boundaries(lengths, batch_size)
    per_bucket = np.bincount(
        np.searchsorted(boundaries, lengths, side="right"),
        minlength=len(boundaries) + 1,
    )
    batches = int(np.ceil(per_bucket / batch_size).sum())
    dataset = tf.data.Dataset.from_tensor_slices((ids, targets))
    # Rows of a ragged tensor come out ragged of rank 0; as int32 they are dense.
    dataset = dataset.map(lambda tokens, target: (tf.cast(tokens, tf.int32), target))
    if shuffle:
        dataset = dataset.shuffle(
            len(lengths), seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.bucket_by_sequence_length(
        lambda tokens, _: tf.size(tokens),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        pad_to_bucket_boundary=False,
    ).apply(tf.data.experimental.assert_cardinality(batches))
    if max_batches > 0:
        dataset = dataset.take(max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)
