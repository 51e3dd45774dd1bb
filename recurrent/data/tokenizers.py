"""Builders around Keras' `TextVectorization` with the project's token conventions.

Id 0 is padding (so `Embedding(mask_zero=True)` masks it) and id 1 is the
out-of-vocabulary token; real tokens start at 2, most frequent first.
"""

from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"


def word_vectorizer(
    max_tokens: int,
    sequence_length: int | None,
    standardize="lower_and_strip_punctuation",
) -> keras.layers.TextVectorization:
    """Word-level vectorizer: lower-cased, punctuation stripped, split on whitespace.

    Args:
        max_tokens: vocabulary size, padding and OOV included.
        sequence_length: pad or truncate to this many tokens (None: longest in batch).
        standardize: Keras standardization mode or callable.
    """
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize,
        split="whitespace",
        output_mode="int",
        output_sequence_length=sequence_length,
    )


def char_vectorizer(
    max_tokens: int, sequence_length: int | None, standardize="lower"
) -> keras.layers.TextVectorization:
    """Character-level vectorizer; arguments as for `word_vectorizer`."""
    return keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize=standardize,
        split="character",
        output_mode="int",
        output_sequence_length=sequence_length,
    )


def fit_vocabulary(
    vectorizer: keras.layers.TextVectorization,
    texts: Iterable[str],
    batch_size: int = 256,
) -> keras.layers.TextVectorization:
    """Adapts `vectorizer` on `texts` (the training split only) and returns it."""
    texts = list(texts)
    if not texts:
        raise ValueError("cannot build a vocabulary from no text")
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(batch_size))
    return vectorizer


def known_token_counts(ids) -> tf.Tensor:
    """`[batch]` int32 count of in-vocabulary ids in each row of `[batch, length]`
    ids: neither padding (`PAD_ID`) nor out-of-vocabulary (`OOV_ID`)."""
    return tf.reduce_sum(tf.cast(ids > OOV_ID, tf.int32), axis=-1)


def split_punctuation(texts: tf.Tensor) -> tf.Tensor:
    """Puts spaces around every punctuation mark and symbol, keeping case.

    "¿Dónde está?" becomes "¿ Dónde está ?", so a whitespace split gives word
    and punctuation tokens. `join_tokens` undoes it for display.
    """
    spaced = tf.strings.regex_replace(texts, r"([\p{P}\p{S}])", r" \1 ")
    return tf.strings.strip(tf.strings.regex_replace(spaced, r"\s+", " "))


def join_tokens(tokens: tf.Tensor) -> tf.Tensor:
    """Joins `[batch, steps]` string tokens into text; empty strings are skipped.

    Punctuation is written back against its word: no space before closing
    marks (. , ; : ! ? ) ] » ") and none after opening marks (¿ ¡ ( [ «).
    """
    text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
    text = tf.strings.regex_replace(text, r" ([.,;:!?)\]»])", r"\1")
    return tf.strings.regex_replace(text, r"([¿¡(\[«]) ", r"\1")


def token_counts(texts) -> np.ndarray:
    """Number of word and punctuation tokens (`split_punctuation`) of each text."""
    spaced = split_punctuation(tf.constant(list(texts), tf.string))
    return tf.strings.split(spaced).row_lengths().numpy()
