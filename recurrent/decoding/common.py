"""Pieces shared by the decoding loops."""

from keras import ops


def write_column(tokens, step, values):
    """`tokens[:, step] = values` for `[batch, length]` tokens, with a traced `step`."""
    column = ops.one_hot(step, ops.shape(tokens)[-1], dtype=tokens.dtype)
    return tokens * (1 - column) + ops.expand_dims(values, -1) * column


def after_end(log_probs, finished, end_token):
    """Forces finished rows to emit `end_token` at no cost, so they stay finished."""
    is_end = ops.one_hot(end_token, ops.shape(log_probs)[-1], dtype=log_probs.dtype) > 0
    forced = ops.where(is_end, 0.0, -1e9)
    return ops.where(ops.expand_dims(finished, -1), forced[None, :], log_probs)


def block_repeated_ngrams(log_probs, tokens, step, size: int):
    """Bans every token that would repeat an n-gram of `size` already in `tokens`.

    Args:
        log_probs: `[n, vocab]` scores of the next token.
        tokens: `[n, length]` tokens so far; positions before `step` are filled.
        step: how many tokens each row holds (traced).
        size: n of the n-grams; below 2 nothing is banned.

    Reference:
        Paulus et al., "A Deep Reinforced Model for Abstractive Summarization",
        2018 (trigram blocking).
    """
    if size < 2:
        return log_probs
    width = size - 1
    offsets = ops.arange(width, dtype="int32")
    suffix = ops.take(tokens, ops.maximum(step - width + offsets, 0), axis=1)
    vocabulary = ops.shape(log_probs)[-1]

    def body(start, banned):
        window = ops.take(tokens, start + offsets, axis=1)
        match = ops.all(window == suffix, axis=-1)
        follower = ops.take(tokens, start + width, axis=1)
        hit = ops.one_hot(follower, vocabulary, dtype=log_probs.dtype)
        return ops.maximum(banned, hit * ops.cast(match, log_probs.dtype)[:, None])

    banned = ops.fori_loop(
        0, ops.maximum(step - width, 0), body, ops.zeros_like(log_probs)
    )
    return ops.where(banned > 0, -1e9, log_probs)


def token_loop(step_fn, state, start_tokens, end_token: int, max_length: int, choose):
    """Runs `step_fn` for `max_length` steps, picking each token with `choose`.

    Args:
        step_fn, state, start_tokens, end_token, max_length: as `greedy_search`.
        choose: `(log_probs [n, vocab]) -> [n]` token ids; finished rows have
            already been forced to `end_token`.

    Returns:
        `[n, max_length]` int32 tokens.
    """
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    tokens = ops.zeros((batch, max_length), dtype="int32")
    finished = ops.zeros((batch,), dtype="bool")

    def body(step, carry):
        tokens, last, state, finished = carry
        log_probs, state = step_fn(last, state)
        chosen = ops.cast(choose(after_end(log_probs, finished, end_token)), "int32")
        finished = ops.logical_or(finished, chosen == end_token)
        return write_column(tokens, step, chosen), chosen, state, finished

    tokens, *_ = ops.fori_loop(
        0, max_length, body, (tokens, start_tokens, state, finished)
    )
    return tokens
