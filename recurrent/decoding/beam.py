"""Beam search with the GNMT length and coverage penalties, a minimum length,
n-gram repeat blocking, early exit and n-best lists."""

import keras
from keras import ops

from recurrent.decoding.common import (
    NONE,
    ban_end_before,
    block_repeated_ngrams,
    gather_beams,
    top_k,
)


def length_penalty(length, alpha: float):
    """((5 + |Y|) / 6) ** alpha; 0 disables it (Wu et al., "Google's NMT", 2016)."""
    return ops.power((5.0 + length) / 6.0, alpha)


def coverage_penalty(coverage, beta: float):
    """GNMT's `beta * sum_i log(min(sum_t a_ti, 1))` over the source positions.

    Args:
        coverage: `[..., source]` attention each source position received,
            summed over the produced tokens.
        beta: weight of the penalty (0 disables it).

    Returns:
        `[...]` penalties, never positive: 0 when every position received a
        total weight of at least 1.

    Positions whose total is exactly 0 are skipped: padding (attention weights
    there are always 0) would otherwise give `log(0) = -inf`. Softmax attention
    gives every unmasked position a positive weight, so real words are always
    counted; a position that no step ever attended at all (outside every
    window of local attention, say) counts as padding.

    Reference:
        Wu et al., "Google's Neural Machine Translation System", 2016, eq. 14.
    """
    attended = coverage > 0
    capped = ops.where(attended, ops.minimum(coverage, 1.0), 1.0)
    return beta * ops.sum(ops.log(capped), axis=-1)


_coverage_penalty = coverage_penalty  # `beam_search` has an argument of that name


def _reorder(new, old, parents, varying):
    """Gathers the rows `parents` of each tensor of the state `new`.

    A tensor the step function handed back untouched (the very object it
    received: an encoder memory, a source mask) is the same for every beam of
    a row, since the initial state is repeated per beam; gathering it would
    copy it unchanged, so it is skipped. `varying` (a set of flat indices)
    remembers the tensors ever changed, so a step function that passes a
    tensor through on some steps only is still reordered correctly.
    """
    flat_new, flat_old = keras.tree.flatten(new), keras.tree.flatten(old)
    if len(flat_new) != len(flat_old):
        return keras.tree.map_structure(lambda x: ops.take(x, parents, axis=0), new)
    gathered = []
    for index, (x, previous) in enumerate(zip(flat_new, flat_old, strict=True)):
        if x is previous and index not in varying:
            gathered.append(x)
        else:
            varying.add(index)
            gathered.append(ops.take(x, parents, axis=0))
    return keras.tree.pack_sequence_as(new, gathered)


def beam_search(
    step_fn,
    state,
    start_tokens,
    end_token: int,
    max_length: int,
    beam_size: int = 4,
    alpha: float = 0.6,
    block_ngram: int = 0,
    min_length: int = 0,
    coverage_penalty: float = 0.0,
    n_best: int = 1,
    attention_key=None,
    early_exit: bool = True,
):
    """Keeps the `beam_size` best unfinished and finished sequences of each row.

    At every step the alive beams are extended by every token and the
    `2 * beam_size` best extensions (by summed log-probability) are split:
    those that end join the finished set, scored by their log-probability
    divided by `length_penalty(their length, alpha)` plus the coverage penalty,
    which keeps the `beam_size` best; the best `beam_size` others stay alive.
    Finished sequences thus never take the place of alive ones, so a short
    early ending cannot crowd out a longer translation (Wu et al. 2016, as in
    tensor2tensor). A sequence still alive after `max_length` steps competes
    with the finished ones at length `max_length`.

    The loop is a `keras.ops.while_loop`. With `early_exit` it stops once, in
    every row, the worst kept finished sequence scores above what any alive
    beam could still reach: its summed log-probability can only fall, so its
    best final score is its current sum over the largest length penalty
    ahead, and the coverage penalty is never positive (tensor2tensor's
    `_is_finished`). The result is then exactly that of running all
    `max_length` steps; this assumes `step_fn` returns log-probabilities
    (never positive).

    Args:
        step_fn: `(tokens [m], state, step) -> (log_probs [m, vocab], state)`
            with `m = n * beam_size` rows, beam-minor; `step` is a scalar int32
            tensor, the index of the token produced.
        state: initial decoder state, a nest of tensors with leading axis `n`
            (repeated per beam here).
        start_tokens: `[n]` first input tokens.
        end_token: id that ends a sequence.
        max_length: most tokens produced; outputs are padded to it.
        beam_size: beams per row.
        alpha: length penalty exponent (0: none; larger favours longer output).
        block_ngram: ban tokens that would repeat an n-gram of this size (0: off).
        min_length: `end_token` is banned before this step, so no sequence
            holds fewer tokens before its end (0: off).
        coverage_penalty: GNMT's beta (0: off; see `coverage_penalty()`), added
            to the score of every finished sequence; needs `attention_key`.
        n_best: how many sequences per row to return (at most `beam_size`).
        attention_key: with it, the state `step_fn` returns is a dict whose
            `state[attention_key]` holds the `[m, source]` attention weights
            used for the token just produced (the initial state holds zeros of
            that shape); they are reordered with the state, kept per beam and
            returned for the best sequence.
        early_exit: stop as soon as the result can no longer change.

    Returns:
        A dict of
        `"tokens"`: `[n, max_length]` int32 best sequences (the end token
        repeated after the first);
        `"scores"`: `[n]` float32 their length-normalised log-probabilities
        (plus the coverage penalty when used);
        `"nbest_tokens"`: `[n, n_best, max_length]` and `"nbest_scores"`:
        `[n, n_best]`, the `n_best` best, best first;
        `"attention"` (only with `attention_key`): `[n, max_length, source]`
        the attention weights of the best sequence at each step, 0 after its
        end token.

    Reference:
        Wu et al., "Google's Neural Machine Translation System: Bridging the
        Gap between Human and Machine Translation", 2016 (length and coverage
        penalties).
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if not 1 <= n_best <= beam_size:
        raise ValueError(
            f"n_best must be between 1 and beam_size ({beam_size}), got {n_best}"
        )
    if coverage_penalty < 0:
        raise ValueError(
            f"coverage_penalty must be 0 (off) or positive, got {coverage_penalty}"
        )
    if coverage_penalty > 0 and attention_key is None:
        raise ValueError(
            "coverage_penalty needs attention_key: the key of the attention "
            "weights in the state returned by step_fn"
        )
    beta = float(coverage_penalty)
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    state = keras.tree.map_structure(lambda x: ops.repeat(x, beam_size, axis=0), state)
    first_beam = ops.arange(beam_size) == 0
    rows = ops.arange(batch, dtype="int32")[:, None] * beam_size
    positions = ops.arange(max_length, dtype="int32")
    # an alive sequence can end at most at max_length: the largest penalty
    # ahead of it is that of max_length, or (alpha < 0) of its next token
    final_penalty = length_penalty(float(max_length), alpha)
    carry = {
        "step": ops.convert_to_tensor(0, dtype="int32"),
        "alive": ops.zeros((batch, beam_size, max_length), dtype="int32"),
        "alive_scores": ops.where(first_beam, 0.0, NONE)[None, :]
        * ops.ones((batch, 1)),
        "last": ops.repeat(start_tokens, beam_size, axis=0),
        "state": state,
        "finished": ops.zeros((batch, beam_size, max_length), dtype="int32"),
        "finished_scores": ops.full((batch, beam_size), NONE),
    }
    if attention_key is not None:
        source = ops.shape(state[attention_key])[-1]
        history = ops.zeros((batch, beam_size, max_length, source))
        carry["alive_attention"] = history
        carry["finished_attention"] = history
    varying = set()

    def cond(carry):
        running = carry["step"] < max_length
        if not early_exit:
            return running
        step = ops.cast(carry["step"], "float32")
        penalty = ops.maximum(length_penalty(step + 1.0, alpha), final_penalty)
        # `initial`: Keras refuses the max over an empty batch without one.
        best = ops.max(carry["alive_scores"], axis=1, initial=float("-inf"))
        best_alive = best / penalty
        done = ops.all(carry["finished_scores"][:, -1] > best_alive)
        return ops.logical_and(running, ops.logical_not(done))

    def body(carry):
        step = carry["step"]
        log_probs, new_state = step_fn(carry["last"], carry["state"], step)
        log_probs = ops.cast(log_probs, "float32")
        flat_alive = ops.reshape(carry["alive"], (-1, max_length))
        log_probs = block_repeated_ngrams(log_probs, flat_alive, step, block_ngram)
        log_probs = ban_end_before(log_probs, step, end_token, min_length)
        candidates = ops.reshape(carry["alive_scores"], (-1, 1)) + log_probs

        vocabulary = log_probs.shape[-1]
        if vocabulary is None:
            vocabulary = ops.shape(log_probs)[-1]
            candidates = ops.reshape(candidates, (batch, -1))
        else:  # a static width lets `top_k` take its fast path
            candidates = ops.reshape(candidates, (-1, beam_size * vocabulary))
        scores, best = top_k(candidates, 2 * beam_size)
        origin = best // vocabulary
        chosen = best % vocabulary
        sequences = gather_beams(carry["alive"], origin)
        sequences = ops.where(positions == step, chosen[:, :, None], sequences)
        ends = chosen == end_token

        alive_scores, keep = ops.top_k(ops.where(ends, NONE, scores), beam_size)
        parent = gather_beams(origin, keep)
        parents = ops.reshape(rows + parent, (-1,))
        out = {
            "step": step + 1,
            "alive": gather_beams(sequences, keep),
            "alive_scores": alive_scores,
            "last": ops.reshape(gather_beams(chosen, keep), (-1,)),
            "state": _reorder(new_state, carry["state"], parents, varying),
        }

        ended = scores / length_penalty(ops.cast(step + 1, "float32"), alpha)
        if attention_key is not None:
            weights = ops.cast(new_state[attention_key], "float32")
            weights = ops.reshape(weights, (batch, beam_size, -1))
            weights = gather_beams(weights, origin)
            history = gather_beams(carry["alive_attention"], origin)
            history = ops.where(
                (positions == step)[:, None], weights[:, :, None, :], history
            )
            out["alive_attention"] = gather_beams(history, keep)
            if beta > 0:
                ended = ended + _coverage_penalty(ops.sum(history, axis=2), beta)
        ended = ops.where(ends, ended, NONE)
        padded = ops.where(positions > step, end_token, sequences)
        out["finished_scores"], pick = ops.top_k(
            ops.concatenate([carry["finished_scores"], ended], axis=1), beam_size
        )
        out["finished"] = gather_beams(
            ops.concatenate([carry["finished"], padded], axis=1), pick
        )
        if attention_key is not None:
            out["finished_attention"] = gather_beams(
                ops.concatenate([carry["finished_attention"], history], axis=1), pick
            )
        return out

    carry = ops.while_loop(cond, body, carry, maximum_iterations=max_length)
    unfinished = carry["alive_scores"] / final_penalty
    if beta > 0:
        coverage = ops.sum(carry["alive_attention"], axis=2)
        unfinished = unfinished + _coverage_penalty(coverage, beta)
    scores = ops.concatenate([carry["finished_scores"], unfinished], axis=1)
    nbest_scores, pick = ops.top_k(scores, n_best)
    tokens = ops.concatenate([carry["finished"], carry["alive"]], axis=1)
    nbest_tokens = ops.take_along_axis(tokens, pick[:, :, None], axis=1)
    result = {
        "tokens": nbest_tokens[:, 0],
        "scores": nbest_scores[:, 0],
        "nbest_tokens": nbest_tokens,
        "nbest_scores": nbest_scores,
    }
    if attention_key is not None:
        attention = ops.concatenate(
            [carry["finished_attention"], carry["alive_attention"]], axis=1
        )
        result["attention"] = ops.take_along_axis(
            attention, pick[:, :1, None, None], axis=1
        )[:, 0]
    return result
