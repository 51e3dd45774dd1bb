"""Decoding algorithms over a step function, compiled as `keras.ops` loops.

Every algorithm drives `step_fn(tokens, state) -> (log_probs, state)`: `tokens`
is `[n]` int32 (the last token of each sequence), `log_probs` is `[n, vocab]`,
and `state` is any nest of tensors whose leading axis is `n`. The algorithms
hold no model: a seq2seq model exposes such a step function (its
`decode_step`), and the loops trace into one graph inside `tf.function` (an
export) or run eagerly.
"""

from recurrent.decoding.beam import beam_search, length_penalty
from recurrent.decoding.greedy import greedy_search
from recurrent.decoding.sampling import sample

__all__ = ["beam_search", "greedy_search", "length_penalty", "sample"]
