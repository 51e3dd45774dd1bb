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


# Spans kept whole by the tokenizer, by kind, in the order they are tried (RE2
# syntax: no look-behind; `\b` and `\B` are ASCII word boundaries). A name
# part or component never ends in a full stop, so the sentence's own stays apart.
_NAME = r"[\w~-]+(?:\.[\w~-]+)*"
ATOMIC = {
    # the numbered stand-ins of `recurrent.generation.placeholders`
    "marker": r"⟨[A-Z]+[0-9]+⟩",
    # not ending in a sentence's punctuation, unless in balanced parentheses
    "url": r"(?:(?:https?|ftp|file)://|www\.)(?:\([^\s<>\"()]*\)|[^\s<>\"()])*"
    r"(?:\([^\s<>\"()]*\)|[^\s<>\"().,;:!?\]}'»])",
    "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    # /usr/bin/x, ~/x, ./x, ../x, C:\x, \\server\share (not and/or: a path
    # starts after no letter or digit)
    "path": r"(?:\B(?:~|\.\.?)?/|\b[A-Za-z]:\\|\B\\\\)(?:\.{0,2}" + _NAME + r")"
    r"(?:[/\\](?:\.{0,2}" + _NAME + r"))*[/\\]?",
    # printf (%s %d %1$s %.2f %-5d %lu %@ %%), Python (%(name)s, {0}, {name},
    # {0:.2f}), Qt/Windows (%1, %NAME%), Ruby (%{name}), templates ({{name}}),
    # shell ($VAR, ${VAR})
    "placeholder": "|".join(
        [
            r"%%",
            r"%\([^()\s]+\)[-#0+]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]",
            r"%\{\w+\}",
            r"%[A-Za-z_][A-Za-z0-9_]+%",
            r"%(?:\d+\$)?[-#0+']*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
            r"(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspnS@]",
            r"%\d+",
            r"\{\{[\w.]+\}\}",
            r"\{[\w.\[\]]*(?:![rsa])?(?::[^{}\s]*)?\}",
            r"\$\{\w+\}",
            r"\$[A-Za-z_][A-Za-z0-9_]*",
        ]
    ),
    # HTML tags without attributes, character entities
    "tag": r"</?[A-Za-z][A-Za-z0-9]*/?>|&[A-Za-z]+;|&#[0-9]+;",
    # 3, 3.14, 1,000, 10:30, 1/2, 10% (not the 3 of mp3 or 3rd)
    "number": r"\b\d+(?:[.,:/]\d+)*(?:%|\b)",
    # file.txt, example.com, v1.2 (dots only between letters or digits)
    "dotted": r"\w+(?:\.\w+)+",
}
_TOKEN = "|".join(f"(?:{pattern})" for pattern in ATOMIC.values())
_TOKEN += r"|[\p{P}\p{S}]"
_CLEAN = r"[\x00-\x08\x0e-\x1f\x7f]"  # control characters (not whitespace)
_GLUE, _SPACE = "\x1f", "\x02"


def _normalize(texts):
    texts = tf.strings.regex_replace(texts, _CLEAN, "")
    return tf.strings.strip(tf.strings.regex_replace(texts, r"\s+", " "))


def split_punctuation(texts: tf.Tensor) -> tf.Tensor:
    """Puts spaces around every punctuation mark and symbol, keeping case and
    keeping atomic spans whole.

    "¿Dónde está?" becomes "¿ Dónde está ?", so a whitespace split gives word
    and punctuation tokens. Format placeholders, URLs, e-mail addresses, file
    paths, HTML tags, numbers and dotted names (`ATOMIC`) stay one token each:
    "Open %s (%1$d) at http://x.org/a?b=1." becomes "Open %s ( %1$d ) at
    http://x.org/a?b=1 .". Plain TensorFlow (regular expressions), so it runs
    inside an export; `join_tokens` undoes it.
    """
    spaced = tf.strings.regex_replace(_normalize(texts), _TOKEN, r" \0 ")
    return tf.strings.strip(tf.strings.regex_replace(spaced, r"\s+", " "))


def split_tokens(texts) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
    """The tokens of `split_punctuation` and whether each had space before it.

    Returns:
        `([batch, (tokens)]` strings, `[batch, (tokens)]` bools): True where
        the text had whitespace before the token (never for the first), so
        `join_tokens` can give a text's own spacing back.
    """
    marked = tf.strings.regex_replace(_normalize(texts), _TOKEN, rf"{_GLUE}\0{_GLUE}")
    marked = tf.strings.regex_replace(marked, rf"[{_GLUE} ]* [{_GLUE} ]*", f" {_SPACE}")
    marked = tf.strings.regex_replace(marked, f"{_GLUE}+", " ")
    pieces = tf.strings.split(tf.strings.strip(marked))
    spaced = tf.strings.regex_full_match(pieces, f"{_SPACE}.*")
    return tf.strings.regex_replace(pieces, f"^{_SPACE}", ""), spaced


# Conventions of `join_tokens`: no space before closing marks, none after
# opening ones; straight double quotes alternate opening and closing; an
# apostrophe between letters joins them (Yahweh's, l'homme).
CLOSING = r"[.,;:!?)\]}»…]"
OPENING = r"[¿¡(\[{«]"
QUOTE = '"'
APOSTROPHE = r"['’]"


WIDEN, WIDE = [[0, 0], [0, 1]], [[0, 0], [0, 2]]


def _space_by_convention(tokens, present):
    """`[batch, steps]` bools: put a space before each token (`present`
    marks real tokens, packed left)."""
    previous = tf.pad(tokens[:, :-1], [[0, 0], [1, 0]])
    following = tf.pad(tokens[:, 1:], [[0, 0], [0, 1]])
    quote = tf.logical_and(tokens == QUOTE, present)
    opening_quote = (
        tf.math.floormod(tf.cumsum(tf.cast(quote, tf.int32), axis=1), 2) == 1
    )
    after_opening_quote = tf.pad(
        tf.logical_and(quote, opening_quote)[:, :-1], [[0, 0], [1, 0]]
    )
    apostrophe = tf.logical_and(
        tf.strings.regex_full_match(tokens, APOSTROPHE),
        tf.logical_and(
            tf.strings.regex_full_match(previous, r".*\p{L}"),
            tf.strings.regex_full_match(following, r"\p{L}.*"),
        ),
    )
    after_apostrophe = tf.pad(apostrophe[:, :-1], [[0, 0], [1, 0]])
    glued = [
        tf.strings.regex_full_match(tokens, CLOSING),
        tf.strings.regex_full_match(previous, OPENING),
        tf.logical_and(quote, tf.logical_not(opening_quote)),
        after_opening_quote,
        apostrophe,
        after_apostrophe,
    ]
    first = tf.broadcast_to(tf.range(tf.shape(tokens)[1]) == 0, tf.shape(tokens))
    return tf.logical_not(tf.reduce_any(tf.stack([first, *glued]), axis=0))


def join_tokens(tokens, source_tokens=None, source_spaced=None) -> tf.Tensor:
    """Joins `[batch, steps]` string tokens into text; empty strings are skipped.

    Tokens are written back with the conventions of written text: no space
    before closing marks (. , ; : ! ? ) ] } » …) and none after opening marks
    (¿ ¡ ( [ { «); straight double quotes alternate opening and closing; an
    apostrophe between letters joins them. With the source's tokens and
    spacing (`split_tokens`), two tokens that also stand side by side in the
    source keep the source's spacing: "( %1 )" stays spaced and "(%1)" does
    not. Atomic tokens are never broken, as they are single tokens.

    Args:
        tokens: `[batch, steps]` strings.
        source_tokens: optional `[batch, source]` strings ("" is padding).
        source_spaced: `[batch, source]` bools, whitespace before each source
            token (with `source_tokens`).
    """
    tokens = tf.convert_to_tensor(tokens, tf.string)
    present = tokens != ""
    # real tokens packed left, and one empty column so that no row is 0 wide
    tokens = tf.pad(tf.ragged.boolean_mask(tokens, present).to_tensor(""), WIDEN)
    present = tokens != ""
    space = _space_by_convention(tokens, present)
    if source_tokens is not None:
        # two empty columns: at least one pair of neighbours in every row
        source_tokens = tf.pad(tf.convert_to_tensor(source_tokens, tf.string), WIDE)
        source_spaced = tf.pad(tf.convert_to_tensor(source_spaced, tf.bool), WIDE)
        previous = tf.pad(tokens[:, :-1], [[0, 0], [1, 0]])
        pairs = tf.logical_and(
            tf.equal(previous[:, :, None], source_tokens[:, None, :-1]),
            tf.equal(tokens[:, :, None], source_tokens[:, None, 1:]),
        )
        pairs = tf.logical_and(pairs, (previous != "")[:, :, None])
        seen = tf.reduce_any(pairs, axis=-1)
        first = tf.argmax(tf.cast(pairs, tf.int32), axis=-1, output_type=tf.int32)
        spaced = tf.gather(source_spaced[:, 1:], first, batch_dims=1)
        space = tf.where(seen, spaced, space)
    prefix = tf.where(tf.logical_and(space, present), " ", "")
    return tf.strings.reduce_join(
        tf.strings.join([prefix, tokens]), axis=-1, separator=""
    )


def token_counts(texts) -> np.ndarray:
    """Number of word and punctuation tokens (`split_punctuation`) of each text."""
    spaced = split_punctuation(tf.constant(list(texts), tf.string))
    return tf.strings.split(spaced).row_lengths().numpy()
