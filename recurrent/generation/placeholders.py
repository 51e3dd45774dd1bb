"""Atomic spans as numbered stand-ins, and unknown words filled from the source.

Format placeholders, URLs, e-mail addresses, file paths, HTML tags and numbers
(the atomic tokens of `recurrent.data.tokenizers.ATOMIC`) must come out of a
translation exactly as they went in: a format string whose `%s` became `% s`
crashes the program that uses it. Each is replaced by a stand-in numbered by
its order of kind in the source (`⟨PH1⟩`, `⟨PH2⟩`, `⟨URL1⟩`, `⟨NUM1⟩`...), on
both sides of a training pair where the target holds the same text, so the
model learns to copy a handful of frequent stand-ins instead of a long tail of
rare strings; the output's stand-ins are then replaced by the source's own
text (the placeholder masking of production translation systems, after the
positional unknown tokens of Luong et al. 2015).

Output words the target vocabulary lacks (`[UNK]`) are replaced by the source
token the decoder attended to most at that step (Luong et al. 2015): names,
numbers and rare words are mostly carried over unchanged between languages.

Everything here but `mask_pairs` is plain TensorFlow, so an export does it.

Reference:
    Luong, Sutskever, Le, Vinyals and Zaremba, "Addressing the Rare Word Problem
    in Neural Machine Translation", ACL 2015.
"""

from collections.abc import Sequence

import tensorflow as tf

from recurrent.data.tokenizers import ATOMIC, OOV_TOKEN, split_tokens

# kind of atomic token -> the name of its stand-ins
KINDS = {
    "placeholder": "PH",
    "url": "URL",
    "email": "EMAIL",
    "path": "PATH",
    "tag": "TAG",
    "number": "NUM",
}
STAND_IN = ATOMIC["marker"]


def mask(tokens) -> tf.Tensor:
    """`[batch, tokens]` strings ("" is padding) with every atomic span of a
    kind in `KINDS` replaced by its stand-in: the k-th placeholder of a row
    becomes `⟨PHk⟩`, its k-th URL `⟨URLk⟩`, and so on (k from 1)."""
    tokens = tf.convert_to_tensor(tokens, tf.string)
    masked = tokens
    for kind, name in KINDS.items():
        found = tf.strings.regex_full_match(tokens, ATOMIC[kind])
        found = tf.logical_and(found, tf.equal(masked, tokens))  # not taken yet
        number = tf.strings.as_string(tf.cumsum(tf.cast(found, tf.int32), axis=1))
        masked = tf.where(found, tf.strings.join([f"⟨{name}", number, "⟩"]), masked)
    return masked


def spaced(tokens) -> tf.Tensor:
    """`[batch, tokens]` strings ("" is padding) as space-separated text."""
    return tf.strings.strip(tf.strings.reduce_join(tokens, axis=-1, separator=" "))


def mask_pairs(
    sources: Sequence[str], targets: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Training pairs as space-separated tokens with stand-ins.

    Sources are masked by `mask`; a target token equal to an atomic source
    span gets that span's stand-in (the k-th occurrence of a text in the
    target that of its k-th occurrence in the source, so reordered
    placeholders keep their numbers). Target spans the source lacks stay as
    written.

    Returns:
        (sources, targets): lists of space-separated token strings.
    """
    source_tokens = split_tokens(tf.constant(list(sources), tf.string))[0]
    dense = source_tokens.to_tensor("")
    masked = mask(dense).numpy().tolist()
    written = dense.numpy().tolist()
    target_tokens = split_tokens(tf.constant(list(targets), tf.string))[0]
    masked_sources, masked_targets = [], []
    for source_row, masked_row, target_row in zip(
        written, masked, target_tokens.to_list(), strict=True
    ):
        stand_ins: dict[bytes, list[bytes]] = {}
        for token, stand_in in zip(source_row, masked_row, strict=True):
            if token and stand_in != token:
                stand_ins.setdefault(token, []).append(stand_in)
        target_row = [
            stand_ins[token].pop(0) if stand_ins.get(token) else token
            for token in target_row
        ]
        masked_sources.append(b" ".join(t for t in masked_row if t).decode())
        masked_targets.append(b" ".join(target_row).decode())
    return masked_sources, masked_targets


WIDEN = [[0, 0], [0, 1]]  # one padding column: no source is 0 wide


def _picked(source_tokens, chosen):
    """The source token of each step at the position where `chosen`
    `[batch, steps, source + 1]` is largest (`source_tokens` is widened)."""
    position = tf.argmax(chosen, axis=-1, output_type=tf.int32)
    return tf.gather(tf.pad(source_tokens, WIDEN), position, batch_dims=1)


def unmask(words, source_tokens, masked_source) -> tf.Tensor:
    """`[batch, steps]` output words with each stand-in replaced by the source
    text it stands for; a stand-in the source lacks becomes "" (dropped).

    Args:
        words: `[batch, steps]` strings.
        source_tokens: `[batch, source]` the source tokens as written.
        masked_source: `[batch, source]` the same after `mask`.
    """
    stands = tf.pad(masked_source != source_tokens, WIDEN)
    holds = tf.equal(words[:, :, None], tf.pad(masked_source, WIDEN)[:, None, :])
    holds = tf.logical_and(holds, stands[:, None, :])
    restored = tf.where(
        tf.reduce_any(holds, axis=-1),
        _picked(source_tokens, tf.cast(holds, tf.int32)),
        "",
    )
    return tf.where(tf.strings.regex_full_match(words, STAND_IN), restored, words)


def replace_unknown(words, weights, source_tokens, unknown: str = OOV_TOKEN):
    """Replaces each `unknown` output word by the source token with the
    largest attention weight at that step (Luong et al. 2015).

    Args:
        words: `[batch, steps]` output strings.
        weights: `[batch, steps, source]` attention weights of each step.
        source_tokens: `[batch, source]` the source tokens as written.
        unknown: the unknown token.

    Returns:
        `[batch, steps]` strings; an unknown word at a step with no attention
        (all weights 0: a model without attention) is left as it is.
    """
    width = tf.shape(source_tokens)[1]
    weights = tf.pad(tf.convert_to_tensor(weights)[:, :, :width], [[0, 0], *WIDEN])
    replace = tf.logical_and(tf.equal(words, unknown), tf.reduce_max(weights, -1) > 0)
    return tf.where(replace, _picked(source_tokens, weights), words)
