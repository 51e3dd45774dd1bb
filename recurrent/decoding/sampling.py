"""Sampling with temperature, top-k and nucleus (top-p) filtering."""

import keras
from keras import ops

from recurrent.decoding.common import token_loop


def filter_logits(logits, top_k: int = 0, top_p: float = 1.0):
    """Keeps the `top_k` largest logits and the smallest set whose mass reaches `top_p`.

    Filtered entries become -1e9; the most likely token is always kept.

    Reference:
        Fan et al., "Hierarchical Neural Story Generation", 2018 (top-k);
        Holtzman et al., "The Curious Case of Neural Text Degeneration", 2020 (top-p).
    """
    if top_k > 0:
        kth = ops.top_k(logits, top_k)[0][..., -1:]
        logits = ops.where(logits < kth, -1e9, logits)
    if top_p < 1.0:
        ordered = ops.flip(ops.sort(logits, axis=-1), axis=-1)
        mass = ops.cumsum(ops.softmax(ordered, axis=-1), axis=-1)
        # the cut-off is the smallest logit whose preceding mass is below top_p
        keep = (
            ops.concatenate([ops.ones_like(mass[..., :1]), mass[..., :-1]], -1) < top_p
        )
        keep = ops.logical_or(keep, ops.arange(ops.shape(mass)[-1])[None, :] == 0)
        # `initial`: Keras refuses the min of an empty batch without one.
        threshold = ops.min(
            ops.where(keep, ordered, 1e9), axis=-1, keepdims=True, initial=1e9
        )
        logits = ops.where(logits < threshold, -1e9, logits)
    return logits


def sample(
    step_fn,
    state,
    start_tokens,
    end_token: int,
    max_length: int,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int | keras.random.SeedGenerator | None = None,
):
    """Decodes by sampling each token from the filtered, tempered distribution.

    Args:
        step_fn, state, start_tokens, end_token, max_length: as `greedy_search`.
        temperature: divides the log-probabilities (below 1: sharper).
        top_k: sample among the k most likely tokens (0: all).
        top_p: sample among the smallest set of tokens with this much mass.
        seed: an int or a `keras.random.SeedGenerator`, for repeatable draws.

    Returns:
        `[n, max_length]` int32 tokens.
    """
    generator = seed if isinstance(seed, keras.random.SeedGenerator) else None
    if generator is None:
        generator = keras.random.SeedGenerator(seed)

    def choose(log_probs):
        logits = filter_logits(log_probs / temperature, top_k, top_p)
        return keras.random.categorical(logits, 1, seed=generator)[:, 0]

    return token_loop(step_fn, state, start_tokens, end_token, max_length, choose)
