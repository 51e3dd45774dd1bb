"""Teacher-forcing datasets of (source ids, target ids) pairs, bucketed by length."""

import keras
import numpy as np
import tensorflow as tf

from recurrent.data.tokenizers import OOV_ID, split_punctuation, token_counts
from recurrent.errors import UserInputError
from recurrent.generation.placeholders import mask_pairs
from recurrent.layers.copy import extended_source_ids, extended_target_ids
from recurrent.losses import SparseNegativeLogLikelihood

BUCKET_WIDTH = 8


def bucket_boundaries(lengths: np.ndarray, width: int = BUCKET_WIDTH) -> list[int]:
    """Every `width` tokens up to the longest of `lengths`: as many buckets
    as the data fills, whatever length limit a task allows."""
    return list(range(width, int(np.max(lengths, initial=0)) + 1, width))


def teacher_forcing_dataset(
    source_ids: tf.RaggedTensor,
    target_ids: tf.RaggedTensor,
    start_id: int,
    end_id: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    max_batches: int = 0,
    bucket_width: int = BUCKET_WIDTH,
    source_keys: tf.RaggedTensor | None = None,
    target_keys: tf.RaggedTensor | None = None,
    copy_vocabulary: int = 0,
) -> tf.data.Dataset:
    """Batches `({"source", "target_in"}, target_out, weights)` for `Seq2Seq.fit`.

    `target_in` is the target behind `start_id`, `target_out` the target
    followed by `end_id`; `weights` are 1 on real target tokens and 0 on
    padding. Pairs of similar length are batched together (every
    `bucket_width` tokens, `bucket_boundaries`), so little of each batch is
    padding; the dataset's cardinality is known.

    Args:
        source_ids, target_ids: `[pairs, (tokens)]` ids, padding-free.
        start_id, end_id: the target's start and end token ids.
        batch_size: pairs per batch.
        shuffle: reshuffle the pairs every epoch (with `seed`).
        max_batches: if positive, at most this many batches (smoke runs).
        source_keys, target_keys, copy_vocabulary: for a copying model (one
            vocabulary of `copy_vocabulary` ids on both sides): the word
            identity of every token (`word_keys`); the inputs then hold
            "source_extended" (`extended_source_ids`) and `target_out` is
            over the extended vocabulary (`extended_target_ids`), while
            `target_in` keeps the unknown id for copied words.
    """
    copying = copy_vocabulary > 0
    if copying:
        keys = tf.data.Dataset.from_tensor_slices((source_keys, target_keys))
        dataset = tf.data.Dataset.zip(
            tf.data.Dataset.from_tensor_slices((source_ids, target_ids)), keys
        ).map(lambda ids, keys: (*ids, *keys))
    else:
        dataset = tf.data.Dataset.from_tensor_slices((source_ids, target_ids))
    if shuffle:
        dataset = dataset.shuffle(
            int(source_ids.nrows()), seed=seed, reshuffle_each_iteration=True
        )

    def teacher_forcing(source, target, *keys):
        start = tf.constant([start_id], target.dtype)
        end = tf.constant([end_id], target.dtype)
        shifted = source, tf.concat([start, target], 0), tf.concat([target, end], 0)
        if not keys:
            return shifted
        source_keys, target_keys = keys
        # The end token matches no source word.
        return (*shifted, source_keys, tf.pad(target_keys, [[0, 1]]))

    # Each bucket yields full batches, then its remainder: a count known ahead.
    lengths = np.maximum(
        source_ids.row_lengths().numpy(), target_ids.row_lengths().numpy() + 1
    )
    boundaries = bucket_boundaries(lengths, bucket_width)
    per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"))
    batches = int(np.ceil(per_bucket / batch_size).sum())
    dataset = dataset.map(teacher_forcing).bucket_by_sequence_length(
        lambda source, target_in, *_: tf.maximum(tf.size(source), tf.size(target_in)),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
    )

    def model_inputs(source, target_in, target_out, *keys):
        weights = tf.cast(target_out > 0, tf.float32)
        source, target_out = tf.cast(source, tf.int32), tf.cast(target_out, tf.int32)
        inputs = {"source": source, "target_in": tf.cast(target_in, tf.int32)}
        if keys:
            source_keys, target_keys = keys
            extended, _ = extended_source_ids(
                source, source == OOV_ID, copy_vocabulary, source_keys
            )
            target_out = extended_target_ids(
                target_out, target_keys, extended, source_keys, copy_vocabulary
            )
            inputs["source_extended"] = extended
        return inputs, target_out, weights

    dataset = dataset.map(model_inputs).apply(
        tf.data.experimental.assert_cardinality(batches)
    )
    if max_batches > 0:
        dataset = dataset.take(max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def image_captions_dataset(
    images: np.ndarray,
    image_index: np.ndarray,
    target_ids: tf.RaggedTensor,
    start_id: int,
    end_id: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    max_batches: int = 0,
) -> tf.data.Dataset:
    """Batches `({"source", "target_in"}, target_out, weights)` of images
    and their captions, as `teacher_forcing_dataset` gives for text.

    Args:
        images: `[images, height, width, 3]` pixels (uint8 keeps it small).
        image_index: `[pairs]` the image of each caption (an image with
            several references is in several pairs).
        target_ids: `[pairs, (tokens)]` caption ids, padding-free.
        start_id, end_id: the target's start and end token ids.
        batch_size, shuffle, seed, max_batches: as `teacher_forcing_dataset`.
    """
    pixels = tf.constant(images)
    index = np.asarray(image_index, dtype=np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((index, target_ids))
    if shuffle:
        dataset = dataset.shuffle(len(index), seed=seed, reshuffle_each_iteration=True)

    def teacher_forcing(image, target):
        target = tf.cast(target, tf.int32)
        start, end = tf.constant([start_id]), tf.constant([end_id])
        return (
            tf.gather(pixels, image),
            tf.concat([start, target], 0),
            tf.concat([target, end], 0),
        )

    def model_inputs(images, target_in, target_out):
        weights = tf.cast(target_out > 0, tf.float32)
        return {"source": images, "target_in": target_in}, target_out, weights

    dataset = (
        dataset.map(teacher_forcing)
        .padded_batch(batch_size)
        .map(model_inputs)
        .apply(tf.data.experimental.assert_cardinality(-(-len(index) // batch_size)))
    )
    if max_batches > 0:
        dataset = dataset.take(max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def spaced_pairs(sources, targets, placeholders: bool = False):
    """Text pairs as space-separated tokens (`split_punctuation`), with atomic
    spans as numbered stand-ins if `placeholders` (`placeholders.mask_pairs`)."""
    if placeholders:
        return mask_pairs(sources, targets)
    return tuple(
        [text.decode() for text in split_punctuation(list(texts)).numpy()]
        for texts in (sources, targets)
    )


def texts_dataset(
    sources,
    targets,
    source,
    target,
    batch_size: int,
    placeholders: bool = False,
    **options,
) -> tf.data.Dataset:
    """`teacher_forcing_dataset` of raw text pairs: tokenized by
    `spaced_pairs` (atomic spans as stand-ins if `placeholders`), looked up in
    the `source` and `target` vocabularies (the target's "start" and "end"
    specials); `options` as there."""
    sources, targets = spaced_pairs(sources, targets, placeholders)
    return teacher_forcing_dataset(
        source.ragged_ids(sources),
        target.ragged_ids(targets),
        target.id("start"),
        target.id("end"),
        batch_size,
        **options,
    )


def word_keys(tokens):
    """The identity of each word token (a 62-bit hash of its text), any shape
    or ragged: equal words, equal keys."""
    return tf.strings.to_hash_bucket_fast(tokens, 2**62)


def copy_texts_dataset(
    sources,
    targets,
    vocabulary,
    batch_size: int,
    max_source: int = 0,
    max_target: int = 0,
    copying: bool = True,
    **options,
) -> tf.data.Dataset:
    """`teacher_forcing_dataset` of raw text pairs for a copying model: one
    `vocabulary` (with "start" and "end") on both sides, the source cut to
    its first `max_source` tokens and the target to `max_target` (0: whole),
    tokenized by `split_punctuation`; `options` as there. With `copying`
    False, the same pairs for a model without copying (unknown words keep
    the unknown id, no extended ids)."""
    sides = []
    for texts, limit in ((sources, max_source), (targets, max_target)):
        spaced = split_punctuation(tf.constant(list(texts), tf.string))
        tokens = tf.strings.split(spaced)
        ids = vocabulary.ragged_ids(spaced)
        if limit:
            tokens, ids = tokens[:, :limit], ids[:, :limit]
        sides.append((ids, word_keys(tokens)))
    (source_ids, source_keys), (target_ids, target_keys) = sides
    return teacher_forcing_dataset(
        source_ids,
        target_ids,
        vocabulary.id("start"),
        vocabulary.id("end"),
        batch_size,
        source_keys=source_keys if copying else None,
        target_keys=target_keys if copying else None,
        copy_vocabulary=vocabulary.size if copying else 0,
        **options,
    )


def short_pairs(frame, columns, max_length: int):
    """The rows of `frame` (pandas) whose `columns` all hold text of 1 to
    `max_length` word and punctuation tokens, re-indexed; and how many were
    dropped."""
    frame = frame.astype(dict.fromkeys(columns, str))
    keep = np.ones(len(frame), bool)
    for column in columns:
        counts = token_counts(frame[column]) if len(frame) else np.zeros(0, int)
        keep &= (counts <= max_length) & (frame[column].str.strip() != "").to_numpy()
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def keep_short_pairs(splits, columns, max_length: int, data: str) -> dict:
    """`short_pairs` of every split, saying how many each left out.

    Raises:
        UserInputError: a split with no pair left.
    """
    kept = {}
    for name, frame in splits.items():
        kept[name], dropped = short_pairs(frame, columns, max_length)
        print(
            f"{name}: {len(kept[name])} pairs of at most {max_length} tokens "
            f"({dropped} longer or empty left out)"
        )
        if kept[name].empty:
            raise UserInputError(
                f"{data} has no {name} pairs of at most {max_length} tokens; "
                "raise --set max_length or add data"
            )
    return kept


def keep_filled_pairs(splits, columns, data: str, what: str) -> dict:
    """Every split as strings without the rows where a column of `columns`
    is blank, saying how many each left out.

    Raises:
        UserInputError: a split with no pair left.
    """
    kept = {}
    for name, frame in splits.items():
        frame = frame.astype(dict.fromkeys(columns, str))
        blank = np.zeros(len(frame), bool)
        for column in columns:
            blank |= (frame[column].str.strip() == "").to_numpy()
        if blank.any():
            print(f"{name}: left out {int(blank.sum())} blank {what}")
        kept[name] = frame[~blank].reset_index(drop=True)
        if kept[name].empty:
            raise UserInputError(
                f"{data} has no {name} pairs of {columns[0]} and {columns[1]}; add "
                "rows or a 'split' column"
            )
    return kept


def compile_for_teacher_forcing(model: keras.Model, optimizer) -> keras.Model:
    """Builds and compiles `model` for the batches of `teacher_forcing_dataset`:
    cross-entropy of the next-token logits (the negative log-likelihood of a
    copying model's extended-vocabulary log-probabilities) and token
    accuracy, padding weighted 0."""
    shapes = {"source": tuple(model.encoder.source_shape), "target_in": (None, None)}
    if getattr(model, "copies", False):
        loss = SparseNegativeLogLikelihood()
        shapes["source_extended"] = (None, None)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.build(shapes)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
    )
    return model
