"""Decoding algorithms over a step function, compiled as `keras.ops` loops.

Every algorithm drives `step_fn(tokens, state, step) -> (log_probs, state)`:

- `tokens` is `[n]` int32, the last token of each sequence (the start tokens
  first);
- `step` is a scalar int32 tensor, the index (0-based) of the token being
  produced; every algorithm passes it (a step function may ignore it);
- `log_probs` is `[n, vocab]` log-probabilities of that token (never positive:
  beam search's early exit relies on it);
- `state` is any nest of tensors whose leading axis is `n`; beam search
  repeats it per beam (`n * beam_size` rows, beam-minor) and reorders it with
  `keras.tree`. A tensor handed back untouched (the very object received, such
  as an encoder memory) is not reordered, as it is the same for every beam.
  With `attention_key`, beam search reads the `[n, source]` attention weights
  used for the token just produced from `state[attention_key]`.

The algorithms hold no model: a seq2seq model exposes such a step function
(its `decode_step`). The loops (`keras.ops.while_loop`) stop early when the
result can no longer change, pad their outputs to `max_length`, trace into one
graph inside `tf.function` (an export) or run eagerly, and accept an empty
batch.

- `greedy_search`: the arg-max token; `min_length`.
- `sample`: temperature, top-k, top-p, CTRL repetition penalty, `min_length`.
- `beam_search`: GNMT length and coverage penalties, `min_length`, n-gram
  blocking, early exit, n-best lists and the attention of the best beam.
"""

from recurrent.decoding.beam import beam_search, coverage_penalty, length_penalty
from recurrent.decoding.greedy import greedy_search
from recurrent.decoding.sampling import sample

__all__ = [
    "beam_search",
    "coverage_penalty",
    "greedy_search",
    "length_penalty",
    "sample",
]
