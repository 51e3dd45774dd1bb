"""Beam search with the GNMT length penalty and n-gram repeat blocking."""

import keras
from keras import ops

from recurrent.decoding.common import block_repeated_ngrams

NONE = -1e9  # the score of no sequence


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
    """Keeps the `beam_size` best unfinished and finished sequences of each row.

    At every step the alive beams are extended by every token and the
    `2 * beam_size` best extensions (by summed log-probability) are split:
    those that end join the finished set, scored by their log-probability
    divided by `length_penalty(their length, alpha)`, which keeps the
    `beam_size` best; the best `beam_size` others stay alive. Finished
    sequences thus never take the place of alive ones, so a short early ending
    cannot crowd out a longer translation (Wu et al. 2016, as in tensor2tensor).
    A sequence still alive after `max_length` steps competes with the finished
    ones at length `max_length`.

    Args:
        step_fn, state, start_tokens, end_token, max_length: as `greedy_search`;
            `step_fn` and the state see `n * beam_size` rows, beam-minor.
        beam_size: beams per row.
        alpha: length penalty exponent (0: none; larger favours longer output).
        block_ngram: ban tokens that would repeat an n-gram of this size (0: off).

    Returns:
        `(tokens, scores)`: `[n, max_length]` int32 best sequences (the end token
        repeated after the first) and their length-normalised log-probabilities
        `[n]`.
    """
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    state = keras.tree.map_structure(lambda x: ops.repeat(x, beam_size, axis=0), state)
    last = ops.repeat(start_tokens, beam_size, axis=0)
    alive = ops.zeros((batch, beam_size, max_length), dtype="int32")
    first_beam = ops.one_hot(0, beam_size) > 0
    alive_scores = ops.where(first_beam, 0.0, NONE)[None, :] * ops.ones((batch, 1))
    finished = ops.zeros((batch, beam_size, max_length), dtype="int32")
    finished_scores = ops.full((batch, beam_size), NONE)
    rows = ops.arange(batch, dtype="int32")[:, None] * beam_size
    positions = ops.arange(max_length, dtype="int32")

    def body(step, carry):
        alive, last, state, alive_scores, finished, finished_scores = carry
        log_probs, state = step_fn(last, state)
        flat_alive = ops.reshape(alive, (-1, max_length))
        log_probs = block_repeated_ngrams(log_probs, flat_alive, step, block_ngram)
        vocabulary = ops.shape(log_probs)[-1]
        candidates = alive_scores[:, :, None] + ops.reshape(
            log_probs, (batch, beam_size, -1)
        )
        scores, best = ops.top_k(ops.reshape(candidates, (batch, -1)), 2 * beam_size)
        origin = ops.cast(best // vocabulary, "int32")
        chosen = ops.cast(best % vocabulary, "int32")
        sequences = ops.take_along_axis(alive, origin[:, :, None], axis=1)
        column = ops.one_hot(step, max_length, dtype="int32")
        sequences = sequences * (1 - column) + chosen[:, :, None] * column
        ends = chosen == end_token

        alive_scores, keep = ops.top_k(ops.where(ends, NONE, scores), beam_size)
        alive = ops.take_along_axis(sequences, keep[:, :, None], axis=1)
        last = ops.reshape(ops.take_along_axis(chosen, keep, axis=1), (-1,))
        parents = ops.reshape(rows + ops.take_along_axis(origin, keep, axis=1), (-1,))
        state = keras.tree.map_structure(lambda x: ops.take(x, parents, axis=0), state)

        penalty = length_penalty(ops.cast(step + 1, "float32"), alpha)
        ended = ops.where(ends, scores / penalty, NONE)
        padded = ops.where(positions[None, None, :] > step, end_token, sequences)
        finished_scores, pick = ops.top_k(
            ops.concatenate([finished_scores, ended], axis=1), beam_size
        )
        finished = ops.take_along_axis(
            ops.concatenate([finished, padded], axis=1), pick[:, :, None], axis=1
        )
        return alive, last, state, alive_scores, finished, finished_scores

    carry = (alive, last, state, alive_scores, finished, finished_scores)
    alive, _, _, alive_scores, finished, finished_scores = ops.fori_loop(
        0, max_length, body, carry
    )
    unfinished = alive_scores / length_penalty(float(max_length), alpha)
    scores = ops.concatenate([finished_scores, unfinished], axis=1)
    best = ops.cast(ops.argmax(scores, axis=1), "int32")
    tokens = ops.concatenate([finished, alive], axis=1)
    best_tokens = ops.take_along_axis(tokens, best[:, None, None], axis=1)[:, 0]
    return best_tokens, ops.take_along_axis(scores, best[:, None], axis=1)[:, 0]
