"""Greedy decoding: the most likely token at every step."""

from keras import ops

from recurrent.decoding.common import after_end, write_column


def greedy_search(step_fn, state, start_tokens, end_token: int, max_length: int):
    """Decodes by taking the arg-max token until `end_token` or `max_length` tokens.

    Args:
        step_fn: `(tokens [n], state) -> (log_probs [n, vocab], state)`.
        state: initial decoder state (a nest with leading axis n).
        start_tokens: `[n]` first input tokens.
        end_token: id that ends a sequence; finished rows repeat it.
        max_length: number of tokens produced.

    Returns:
        `[n, max_length]` int32 tokens (the end token included).
    """
    start_tokens = ops.cast(start_tokens, "int32")
    batch = ops.shape(start_tokens)[0]
    tokens = ops.zeros((batch, max_length), dtype="int32")
    finished = ops.zeros((batch,), dtype="bool")

    def body(step, carry):
        tokens, last, state, finished = carry
        log_probs, state = step_fn(last, state)
        log_probs = after_end(log_probs, finished, end_token)
        chosen = ops.cast(ops.argmax(log_probs, axis=-1), "int32")
        finished = ops.logical_or(finished, chosen == end_token)
        return write_column(tokens, step, chosen), chosen, state, finished

    tokens, *_ = ops.fori_loop(
        0, max_length, body, (tokens, start_tokens, state, finished)
    )
    return tokens
