"""Pieces shared by the decoding loops."""

import math

from keras import ops

NONE = -1e9  # the score of a banned token, and of no sequence


def gather_beams(x, indices):
    """`x[b, indices[b, j]]`: `[batch, m, ...]` by `[batch, k]` -> `[batch, k, ...]`.

    `ops.take_along_axis(x, indices[:, :, None, ...], axis=1)` as one gather
    over the flattened rows: Keras' TensorFlow `take_along_axis` broadcasts
    the indices to the output's shape and transposes `x` around the gather,
    which costs more than the gather itself inside a decoding loop.
    """
    shape = ops.shape(x)
    batch, width, rest = shape[0], shape[1], tuple(shape[2:])
    rows = (
        ops.cast(indices, "int32") + ops.arange(batch, dtype="int32")[:, None] * width
    )
    flat = ops.reshape(x, (-1, *rest))
    gathered = ops.take(flat, ops.reshape(rows, (-1,)), axis=0)
    return ops.reshape(gathered, (batch, ops.shape(indices)[1], *rest))


def top_k(scores, k: int):
    """`ops.top_k(scores, k)` (sorted; ties to the lower index), faster on long rows.

    A row of `n` scores is cut into blocks of about `sqrt(n)`; the k best
    scores lie in the k blocks of highest maximum (ties again to the lower
    block, whose indices are lower), so one cheap maximum per block and a
    top-k over the few scores of those k blocks give exactly what a top-k over
    the whole row gives. On CPU, TensorFlow's top-k over 4 x 10,000 beam
    extensions costs about ten maxima over them; this costs about three.

    Args:
        scores: `[rows, n]` floats; `n` known when traced for the fast path.
        k: how many to keep.

    Returns:
        `(values [rows, k], indices [rows, k] int32)`.
    """
    n = scores.shape[-1]
    if n is None or n < 4 * k * k:
        values, indices = ops.top_k(scores, k)
        return values, ops.cast(indices, "int32")
    size = math.isqrt(n)
    blocks = -(-n // size)
    if blocks * size != n:  # padding at the end: the last of any tie
        scores = ops.pad(
            scores, [[0, 0], [0, blocks * size - n]], constant_values=float("-inf")
        )
    scores = ops.reshape(scores, (-1, blocks, size))
    # `initial`: Keras refuses the max over an empty batch without one.
    maxima = ops.max(scores, axis=-1, initial=float("-inf"))
    _, chosen = ops.top_k(maxima, k)
    chosen = ops.sort(ops.cast(chosen, "int32"), axis=-1)  # keeps index order
    picked = gather_beams(scores, chosen)
    values, position = ops.top_k(ops.reshape(picked, (-1, k * size)), k)
    position = ops.cast(position, "int32")
    block = gather_beams(chosen, position // size)
    return values, block * size + position % size


def write_column(tokens, step, values):
    """`tokens[..., step] = values` for `[..., length]` tokens, with a traced `step`."""
    positions = ops.arange(ops.shape(tokens)[-1], dtype="int32")
    return ops.where(positions == step, ops.expand_dims(values, -1), tokens)


def after_end(log_probs, finished, end_token):
    """Forces finished rows to emit `end_token` at no cost, so they stay finished."""
    is_end = ops.arange(ops.shape(log_probs)[-1], dtype="int32") == end_token
    forced = ops.where(is_end, 0.0, NONE)
    return ops.where(ops.expand_dims(finished, -1), forced[None, :], log_probs)


def ban_end_before(log_probs, step, end_token: int, min_length: int):
    """Bans `end_token` while `step < min_length`: no sequence ends before
    holding `min_length` tokens (the end token excluded).

    Args:
        log_probs: `[n, vocab]` scores of the token produced at `step`.
        step: index (0-based) of that token (traced).
        end_token: id that ends a sequence.
        min_length: smallest number of tokens before the end token (0: off).
    """
    if min_length <= 0:
        return log_probs
    is_end = ops.arange(ops.shape(log_probs)[-1], dtype="int32") == end_token
    banned = ops.logical_and(is_end, step < min_length)
    return ops.where(banned[None, :], NONE, log_probs)


def seen_tokens(tokens, step, vocabulary):
    """`[n, vocab]` booleans: which ids `tokens[:, :step]` holds (`step` traced)."""
    batch, length = ops.shape(tokens)[0], ops.shape(tokens)[1]
    rows = ops.broadcast_to(ops.arange(batch, dtype="int32")[:, None], (batch, length))
    indices = ops.stack([rows, ops.cast(tokens, "int32")], axis=-1)
    written = ops.arange(length, dtype="int32")[None, :] < step
    counts = ops.scatter(
        ops.reshape(indices, (-1, 2)),
        ops.reshape(ops.cast(written, "float32") * ops.ones((batch, 1)), (-1,)),
        (batch, vocabulary),
    )
    return counts > 0


def repetition_penalty_of(scores, seen, penalty: float):
    """The CTRL repetition penalty: scores of `seen` tokens divided by `penalty`
    where positive, multiplied by it where negative (or zero).

    Log-probabilities are never positive, so on them the penalty multiplies:
    with `penalty > 1` a repeated token's log-probability moves further below
    zero, lowering its probability after renormalisation. Raw logits get both
    branches, exactly as in the paper.

    Reference:
        Keskar et al., "CTRL: A Conditional Transformer Language Model for
        Controllable Generation", 2019.
    """
    penalised = ops.where(scores > 0, scores / penalty, scores * penalty)
    return ops.where(seen, penalised, scores)


def block_repeated_ngrams(log_probs, tokens, step, size: int):
    """Bans every token that would repeat an n-gram of `size` already in `tokens`.

    Every n-gram already written is compared at once with the last `size - 1`
    tokens; the tokens that followed the matching ones are banned (their
    log-probability becomes -1e9).

    Args:
        log_probs: `[n, vocab]` scores of the next token.
        tokens: `[n, length]` tokens so far; positions before `step` are filled.
        step: how many tokens each row holds (traced).
        size: n of the n-grams; below 2 nothing is banned.

    Reference:
        Paulus et al., "A Deep Reinforced Model for Abstractive Summarization",
        2018 (trigram blocking).
    """
    width = size - 1
    length = tokens.shape[-1]
    if size < 2 or (length is not None and length <= width):
        return log_probs
    length = ops.shape(tokens)[-1]
    starts = length - width  # n-grams start at 0 .. length - size
    suffix = ops.take(tokens, ops.maximum(step - width + ops.arange(width), 0), axis=1)
    match = ops.ones_like(tokens[:, :starts], dtype="bool")
    for offset in range(width):
        window = tokens[:, offset : offset + starts]
        match = ops.logical_and(match, window == suffix[:, offset : offset + 1])
    # only n-grams whose last token (the follower) is already written
    written = ops.arange(starts, dtype="int32") + width < step
    match = ops.logical_and(match, written[None, :])
    followers = tokens[:, width:]
    batch = ops.shape(tokens)[0]
    rows = ops.broadcast_to(ops.arange(batch, dtype="int32")[:, None], (batch, starts))
    indices = ops.stack([rows, ops.cast(followers, "int32")], axis=-1)
    banned = ops.scatter(
        ops.reshape(indices, (-1, 2)),
        ops.reshape(ops.cast(match, "float32"), (-1,)),
        ops.shape(log_probs),
    )
    return ops.where(banned > 0, NONE, log_probs)


def token_loop(
    step_fn,
    state,
    start_tokens,
    end_token: int,
    max_length: int,
    choose,
    min_length: int = 0,
    adjust=None,
):
    """Runs `step_fn` until every row has ended or `max_length` tokens are out,
    picking each token with `choose`.

    The loop (`keras.ops.while_loop`) stops as soon as every row has produced
    `end_token`; the columns it did not run hold `end_token`, exactly what the
    finished rows would have produced.

    Args:
        step_fn, state, start_tokens, end_token, max_length, min_length: as
            `greedy_search`.
        choose: `(log_probs [n, vocab]) -> [n]` token ids; finished rows have
            already been forced to `end_token`.
        adjust: optional `(log_probs, tokens [n, max_length], step) -> log_probs`
            applied before `choose` (tokens at positions >= step are unwritten).

    Returns:
        `[n, max_length]` int32 tokens.
    """
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    carry = {
        "step": ops.convert_to_tensor(0, dtype="int32"),
        "tokens": ops.full((batch, max_length), end_token, dtype="int32"),
        "last": start_tokens,
        "state": state,
        "finished": ops.zeros((batch,), dtype="bool"),
    }

    def cond(carry):
        running = carry["step"] < max_length
        return ops.logical_and(running, ops.logical_not(ops.all(carry["finished"])))

    def body(carry):
        step, finished = carry["step"], carry["finished"]
        log_probs, state = step_fn(carry["last"], carry["state"], step)
        log_probs = ban_end_before(
            ops.cast(log_probs, "float32"), step, end_token, min_length
        )
        if adjust is not None:
            log_probs = adjust(log_probs, carry["tokens"], step)
        chosen = ops.cast(choose(after_end(log_probs, finished, end_token)), "int32")
        return {
            "step": step + 1,
            "tokens": write_column(carry["tokens"], step, chosen),
            "last": chosen,
            "state": state,
            "finished": ops.logical_or(finished, chosen == end_token),
        }

    carry = ops.while_loop(cond, body, carry, maximum_iterations=max_length)
    return carry["tokens"]
