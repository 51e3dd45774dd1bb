"""Sampling with temperature, top-k, nucleus (top-p) filtering and a repetition penalty."""

import keras
from keras import ops

from recurrent.decoding.common import repetition_penalty_of, seen_tokens, token_loop


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
    repetition_penalty: float = 1.0,
    min_length: int = 0,
):
    """Decodes by sampling each token from the filtered, tempered distribution.

    Each step's log-probabilities go through, in order: the `min_length` ban
    of `end_token`, the repetition penalty, the temperature, then top-k and
    top-p filtering; the token is drawn from the softmax of what remains. The
    loop stops once every row has produced `end_token`.

    Args:
        step_fn, state, start_tokens, end_token, max_length, min_length: as
            `greedy_search`.
        temperature: divides the log-probabilities (below 1: sharper).
        top_k: sample among the k most likely tokens (0: all).
        top_p: sample among the smallest set of tokens with this much mass.
        seed: an int or a `keras.random.SeedGenerator`, for repeatable draws.
        repetition_penalty: CTRL's penalty (Keskar et al. 2019) on the tokens
            this row has already produced (the start token is not counted):
            their scores are divided by it where positive and multiplied by it
            where negative. The step function returns log-probabilities, which
            are never positive, so a penalty above 1 multiplies a produced
            token's log-probability by it (1.2: `log p` becomes `1.2 log p`),
            making repeats less likely; 1 disables it, below 1 favours repeats.

    Returns:
        `[n, max_length]` int32 tokens.

    Reference:
        Keskar et al., "CTRL: A Conditional Transformer Language Model for
        Controllable Generation", 2019 (repetition penalty).
    """
    if repetition_penalty <= 0:
        raise ValueError(
            f"repetition_penalty must be positive (1.0: off), got {repetition_penalty}"
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    generator = seed if isinstance(seed, keras.random.SeedGenerator) else None
    if generator is None:
        generator = keras.random.SeedGenerator(seed)

    def choose(log_probs):
        logits = filter_logits(log_probs / temperature, top_k, top_p)
        return keras.random.categorical(logits, 1, seed=generator)[:, 0]

    adjust = None
    if repetition_penalty != 1.0:

        def adjust(log_probs, tokens, step):
            seen = seen_tokens(tokens, step, ops.shape(log_probs)[-1])
            return repetition_penalty_of(log_probs, seen, repetition_penalty)

    return token_loop(
        step_fn,
        state,
        start_tokens,
        end_token,
        max_length,
        choose,
        min_length=min_length,
        adjust=adjust,
    )
