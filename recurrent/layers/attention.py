"""Attention over an encoder's memory: Luong global and local, and Bahdanau.

Every layer takes a query (`[batch, query_features]` for one decoder step, or
`[batch, steps, query_features]` for a whole teacher-forced sequence), the
memory `[batch, source, memory_features]` and an explicit boolean memory mask
`[batch, source]`, and returns `(context, weights)`: the context vectors and
the attention weights, which sum to 1 over the valid memory positions and are 0
on padding (and, for local attention, outside the window).
"""

import keras
from keras import ops

from recurrent.choices import lookup

SCORES = ("dot", "general", "concat")
LOCAL_MODES = ("monotonic", "predictive")
NEGATIVE = -1e9


def masked_softmax(scores, valid):
    """Softmax over the last axis restricted to `valid`; rows with no valid entry give 0."""
    scores = ops.where(valid, scores, ops.full_like(scores, NEGATIVE))
    weights = ops.softmax(scores, axis=-1) * ops.cast(valid, scores.dtype)
    total = ops.sum(weights, axis=-1, keepdims=True)
    return weights / ops.maximum(total, 1e-9)


class _Attention(keras.layers.Layer):
    """Shared call logic: shapes, masking, softmax and the context vectors.

    A Keras mask on the query (e.g. target padding) passes on to the outputs.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, query, previous_mask=None):
        return previous_mask, previous_mask

    def _scores(self, query, memory, **kwargs):
        raise NotImplementedError

    def _valid(self, scores, memory_mask, query, memory, **kwargs):
        if memory_mask is None:
            return ops.ones_like(scores, dtype="bool")
        return ops.broadcast_to(
            ops.cast(memory_mask, "bool")[:, None, :], ops.shape(scores)
        )

    def _bias(self, scores, memory_mask, query, **kwargs):
        return scores

    def call(self, query, memory, memory_mask=None, positions=None):
        single_step = len(query.shape) == 2
        if single_step:
            query = query[:, None, :]
            positions = None if positions is None else ops.reshape(positions, (-1, 1))
        scores = self._scores(query, memory)
        extra = {"positions": positions}
        valid = self._valid(scores, memory_mask, query, memory, **extra)
        scores = self._bias(scores, memory_mask, query, **extra)
        weights = masked_softmax(scores, valid)
        context = ops.matmul(weights, memory)
        if single_step:
            return context[:, 0], weights[:, 0]
        return context, weights

    def compute_output_shape(self, query_shape, memory_shape, memory_mask_shape=None):
        context = tuple(query_shape[:-1]) + (memory_shape[-1],)
        return context, tuple(query_shape[:-1]) + (memory_shape[1],)


class _ScoredAttention(_Attention):
    """Attention with one of Luong's score functions (dot, general, concat)."""

    def __init__(self, score="general", units=None, **kwargs):
        super().__init__(**kwargs)
        lookup(dict.fromkeys(SCORES), score, "attention score")
        self.score = score
        self.units = units

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        query_features, memory_features = query_shape[-1], memory_shape[-1]
        if self.score == "dot" and query_features != memory_features:
            raise ValueError(
                f"dot scores need equal query and memory sizes, got {query_features} "
                f"and {memory_features}; use score='general'"
            )
        if self.score == "general":
            self.kernel = self.add_weight(
                shape=(query_features, memory_features),
                initializer="glorot_uniform",
                name="kernel",
            )
        elif self.score == "concat":
            units = self.units or query_features
            self.query_kernel = self.add_weight(
                shape=(query_features, units),
                initializer="glorot_uniform",
                name="query_kernel",
            )
            self.memory_kernel = self.add_weight(
                shape=(memory_features, units),
                initializer="glorot_uniform",
                name="memory_kernel",
            )
            self.vector = self.add_weight(
                shape=(units,), initializer="glorot_uniform", name="vector"
            )

    def _scores(self, query, memory, **kwargs):
        if self.score == "dot":
            return ops.matmul(query, ops.transpose(memory, (0, 2, 1)))
        if self.score == "general":
            return ops.matmul(
                ops.matmul(query, self.kernel), ops.transpose(memory, (0, 2, 1))
            )
        return additive_scores(
            query, memory, self.query_kernel, self.memory_kernel, self.vector
        )

    def get_config(self):
        config = super().get_config()
        config.update(score=self.score, units=self.units)
        return config


def additive_scores(query, memory, query_kernel, memory_kernel, vector):
    """v . tanh(W_q q_t + W_m m_s) for every query step t and memory position s."""
    projected_query = ops.matmul(query, query_kernel)[:, :, None, :]
    projected_memory = ops.matmul(memory, memory_kernel)[:, None, :, :]
    return ops.matmul(ops.tanh(projected_query + projected_memory), vector)


@keras.saving.register_keras_serializable(package="recurrent")
class LuongAttention(_ScoredAttention):
    """Luong global attention: every memory position is scored against the query.

    score(h_t, h_s) is h_t . h_s ("dot"), h_t W h_s ("general") or
    v . tanh(W [h_t; h_s]) ("concat").

    Args:
        score: "dot", "general" or "concat".
        units: size of the concat projection (default: the query size).
        **kwargs: base `Layer` arguments.

    Call arguments:
        query: `[batch, query_features]` or `[batch, steps, query_features]`.
        memory: `[batch, source, memory_features]`.
        memory_mask: optional boolean `[batch, source]`; False marks padding.

    Returns:
        `(context, weights)`: `[..., memory_features]` and `[..., source]`.

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural
        Machine Translation", EMNLP 2015, section 3.1.
    """


@keras.saving.register_keras_serializable(package="recurrent")
class LocalAttention(_ScoredAttention):
    """Luong local attention: only a window [p_t - D, p_t + D] of the memory is attended.

    "monotonic" (local-m) centres the window on the query's own position,
    p_t = t (clipped to the source length). "predictive" (local-p) predicts
    p_t = S * sigmoid(v_p . tanh(W_p h_t)), with S the source length, and
    favours positions near p_t with a Gaussian of sigma = D / 2. The weights are
    renormalised over the window so that they sum to 1.

    Args:
        mode: "monotonic" or "predictive".
        window: D, the half width of the window.
        score: "dot", "general" or "concat".
        units: size of the concat and position projections (default: the
            query size).
        **kwargs: base `Layer` arguments.

    Call arguments:
        query, memory, memory_mask: as `LuongAttention`.
        positions: the query steps' target positions t, `[batch]` for one step
            (needed by "monotonic"); a sequence query uses 0, 1, 2, ...

    Returns:
        `(context, weights)`, as `LuongAttention`.

    Reference:
        Luong, Pham and Manning, EMNLP 2015, section 3.2.
    """

    def __init__(
        self, mode="predictive", window=10, score="general", units=None, **kwargs
    ):
        super().__init__(score=score, units=units, **kwargs)
        lookup(dict.fromkeys(LOCAL_MODES), mode, "local attention mode")
        self.mode = mode
        self.window = window

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        super().build(query_shape, memory_shape)
        if self.mode == "predictive":
            units = self.units or query_shape[-1]
            self.position_kernel = self.add_weight(
                shape=(query_shape[-1], units),
                initializer="glorot_uniform",
                name="position_kernel",
            )
            self.position_vector = self.add_weight(
                shape=(units,), initializer="glorot_uniform", name="position_vector"
            )

    def centres(self, query, source_length, positions=None):
        """p_t for every query step: `[batch, steps]`."""
        if self.mode == "predictive":
            hidden = ops.tanh(ops.matmul(query, self.position_kernel))
            return source_length[:, None] * ops.sigmoid(
                ops.matmul(hidden, self.position_vector)
            )
        if positions is None:
            steps = ops.shape(query)[1]
            positions = ops.broadcast_to(
                ops.arange(steps, dtype=query.dtype)[None, :],
                (ops.shape(query)[0], steps),
            )
        last = ops.maximum(source_length - 1.0, 0.0)[:, None]
        return ops.minimum(ops.cast(positions, query.dtype), last)

    def _geometry(self, scores, memory_mask, query, positions):
        if memory_mask is None:
            memory_mask = ops.ones(ops.shape(scores)[::2], dtype="bool")
        source_length = ops.sum(ops.cast(memory_mask, query.dtype), axis=-1)
        centre = self.centres(query, source_length, positions)[..., None]
        source = ops.arange(ops.shape(scores)[-1], dtype=query.dtype)[None, None, :]
        return memory_mask, source - centre

    def _valid(self, scores, memory_mask, query, memory, positions=None):
        memory_mask, distance = self._geometry(scores, memory_mask, query, positions)
        inside = ops.abs(distance) <= self.window
        return ops.logical_and(inside, ops.cast(memory_mask, "bool")[:, None, :])

    def _bias(self, scores, memory_mask, query, positions=None):
        if self.mode != "predictive":
            return scores
        _, distance = self._geometry(scores, memory_mask, query, positions)
        sigma = self.window / 2.0
        return scores - ops.square(distance) / (2.0 * sigma**2)

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, window=self.window)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class BahdanauAttention(_Attention):
    """Additive attention: score(q, m_s) = v . tanh(W_q q + W_m m_s).

    Args:
        units: size of the additive projection.
        **kwargs: base `Layer` arguments.

    Call arguments, returns: as `LuongAttention`.

    Reference:
        Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly
        Learning to Align and Translate", ICLR 2015.
    """

    def __init__(self, units=128, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, query_shape, memory_shape, memory_mask_shape=None):
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], self.units),
            initializer="glorot_uniform",
            name="query_kernel",
        )
        self.memory_kernel = self.add_weight(
            shape=(memory_shape[-1], self.units),
            initializer="glorot_uniform",
            name="memory_kernel",
        )
        self.vector = self.add_weight(
            shape=(self.units,), initializer="glorot_uniform", name="vector"
        )

    def _scores(self, query, memory, **kwargs):
        return additive_scores(
            query, memory, self.query_kernel, self.memory_kernel, self.vector
        )

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


ATTENTIONS = {
    "global": LuongAttention,
    "local": LocalAttention,
    "bahdanau": BahdanauAttention,
}


def get(kind: str, **kwargs) -> keras.layers.Layer:
    """Builds an attention layer by name: "global", "local" or "bahdanau"."""
    return lookup(ATTENTIONS, kind, "attention")(**kwargs)
