"""Beam search with the GNMT length penalty and n-gram repeat blocking."""

import keras
from keras import ops

from recurrent.decoding.common import after_end, block_repeated_ngrams, write_column


def length_penalty(length, alpha: float):
    """((5 + |Y|) / 6) ** alpha; 0 disables it (Wu et al., "Google's NMT", 2016)."""
    return ops.power((5.0 + length) / 6.0, alpha)


def beam_search(
    step_fn,
    state,
    start_tokens,
    end_token: int,
    max_length: int,
    beam_size: int = 4,
    alpha: float = 0.6,
    block_ngram: int = 0,
):
    """Keeps the `beam_size` best partial sequences of each row at every step.

    Beams are ranked by summed log-probability while decoding; a finished beam
    keeps its score and repeats `end_token` at no cost. At the end each beam's
    score is divided by `length_penalty(its length, alpha)` and the best is
    returned.

    Args:
        step_fn, state, start_tokens, end_token, max_length: as `greedy_search`;
            `step_fn` and the state see `n * beam_size` rows, beam-minor.
        beam_size: beams per row.
        alpha: length penalty exponent (0: none; larger favours longer output).
        block_ngram: ban tokens that would repeat an n-gram of this size (0: off).

    Returns:
        `(tokens, scores)`: `[n, max_length]` int32 best sequences and their
        length-normalised log-probabilities `[n]`.
    """
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    state = keras.tree.map_structure(lambda x: ops.repeat(x, beam_size, axis=0), state)
    last = ops.repeat(start_tokens, beam_size, axis=0)
    tokens = ops.zeros((batch * beam_size, max_length), dtype="int32")
    first_beam = ops.one_hot(0, beam_size) > 0
    scores = ops.where(first_beam, 0.0, -1e9)[None, :] * ops.ones((batch, 1))
    finished = ops.zeros((batch, beam_size), dtype="bool")
    lengths = ops.zeros((batch, beam_size))
    rows = ops.arange(batch, dtype="int32")[:, None] * beam_size

    def body(step, carry):
        tokens, last, state, scores, finished, lengths = carry
        log_probs, state = step_fn(last, state)
        log_probs = after_end(log_probs, ops.reshape(finished, (-1,)), end_token)
        log_probs = block_repeated_ngrams(log_probs, tokens, step, block_ngram)
        vocabulary = ops.shape(log_probs)[-1]
        candidates = scores[:, :, None] + ops.reshape(log_probs, (batch, beam_size, -1))
        scores, best = ops.top_k(ops.reshape(candidates, (batch, -1)), beam_size)
        origin = ops.cast(best // vocabulary, "int32")
        chosen = ops.cast(best % vocabulary, "int32")
        flat_origin = ops.reshape(rows + origin, (-1,))

        def reorder(x):
            return ops.take(x, flat_origin, axis=0)

        state = keras.tree.map_structure(reorder, state)
        tokens = write_column(reorder(tokens), step, ops.reshape(chosen, (-1,)))
        finished = ops.take_along_axis(finished, origin, axis=1)
        lengths = ops.take_along_axis(lengths, origin, axis=1) + ops.cast(
            ops.logical_not(finished), "float32"
        )
        finished = ops.logical_or(finished, chosen == end_token)
        return tokens, ops.reshape(chosen, (-1,)), state, scores, finished, lengths

    tokens, _, _, scores, _, lengths = ops.fori_loop(
        0, max_length, body, (tokens, last, state, scores, finished, lengths)
    )
    normalised = scores / length_penalty(lengths, alpha)
    best = ops.cast(ops.argmax(normalised, axis=1), "int32")
    tokens = ops.reshape(tokens, (batch, beam_size, max_length))
    best_tokens = ops.take_along_axis(tokens, best[:, None, None], axis=1)[:, 0]
    return best_tokens, ops.take_along_axis(normalised, best[:, None], axis=1)[:, 0]
