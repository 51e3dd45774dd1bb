"""Greedy decoding: the most likely token at every step."""

from keras import ops

from recurrent.decoding.common import token_loop


def greedy_search(
    step_fn,
    state,
    start_tokens,
    end_token: int,
    max_length: int,
    min_length: int = 0,
):
    """Decodes by taking the arg-max token until `end_token` or `max_length` tokens.

    The loop stops once every row has produced `end_token` (the remaining
    columns hold `end_token`, as if it had run on).

    Args:
        step_fn: `(tokens [n], state, step) -> (log_probs [n, vocab], state)`;
            `step` is a scalar int32 tensor, the index of the token produced.
        state: initial decoder state (a nest with leading axis n).
        start_tokens: `[n]` first input tokens.
        end_token: id that ends a sequence; finished rows repeat it.
        max_length: number of tokens produced.
        min_length: `end_token` is banned before this step, so no sequence
            holds fewer tokens before its end (0: off).

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
        min_length=min_length,
    )
