"""Greedy decoding: the most likely token at every step."""

from keras import ops

from recurrent.decoding.common import token_loop


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
    return token_loop(
        step_fn,
        state,
        start_tokens,
        end_token,
        max_length,
        lambda log_probs: ops.argmax(log_probs, axis=-1),
    )
