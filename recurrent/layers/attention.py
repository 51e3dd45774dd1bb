"""Attention over an encoder's memory: Luong global and local, and Bahdanau.

Every layer takes a query (`[batch, query_features]` for one decoder step, or
`[batch, steps, query_features]` for a whole teacher-forced sequence), the
memory `[batch, source, memory_features]` and an explicit boolean memory mask
`[batch, source]`, and returns `(context, weights)`: the context vectors and
the attention weights, which sum to 1 over the valid memory positions and are 0
on padding (and, for local attention, outside the window). A memory row with no
valid position gets weights 0 everywhere and a zero context (never NaN).

Coverage (See et al. 2017): a layer built with `coverage=True` takes an extra
`coverage` call argument, the sum of the attention weights of the previous
decoder steps (`[batch, source]` for one step, `[batch, steps, source]` for a
sequence), and lets it shift the scores, so that the model can learn not to
attend again where it already has:

- additive scores (`BahdanauAttention`, Luong "concat") put it inside the
  tanh: `v . tanh(W_q q_t + W_m m_s + w_c c_s (+ b))`, `w_c` a learned vector;
- Luong "dot" and "general" scores add a learned scalar term:
  `score(q_t, m_s) + w_c * c_s`.

`w_c` starts at 0, so an untrained coverage layer scores like one without.

The registry: `NAMES` lists every attention name a decoder or a task accepts,
and `get(kind, **kwargs)` builds the layer (None for "none").
"""

import inspect

import keras
from keras import ops

from recurrent.choices import lookup

SCORES = ("dot", "general", "concat")
LOCAL_MODES = ("monotonic", "predictive")
NEGATIVE = -1e9


def masked_softmax(scores, valid):
    """Softmax over the last axis restricted to `valid`; rows with no valid entry give 0."""
    scores = ops.where(valid, scores, ops.full_like(scores, NEGATIVE))
    # exp(s - max) by hand: a memory of one position is legitimate here (a
    # one-word source), and Keras warns of a softmax over an axis of size 1.
    shifted = scores - ops.stop_gradient(ops.max(scores, axis=-1, keepdims=True))
    weights = ops.exp(shifted) * ops.cast(valid, scores.dtype)
    total = ops.sum(weights, axis=-1, keepdims=True)
    return weights / ops.maximum(total, 1e-9)


def doubly_stochastic_penalty(weights, steps_mask=None, memory_mask=None):
    """Show, Attend and Tell's attention regulariser (Xu et al. 2015, eq. 14):
    the mean over valid positions i of (1 - sum_t a_ti)^2, so that over a
    caption the decoder attends to every region about once.

    Args:
        weights: attention `[batch, steps, positions]`.
        steps_mask: optional `[batch, steps]` valid decoder steps.
        memory_mask: optional `[batch, positions]` valid memory positions.

    Returns:
        The scalar mean over the batch; 0 for a batch with no valid position.
    """
    if steps_mask is not None:
        weights = weights * ops.cast(steps_mask, weights.dtype)[:, :, None]
    squared = ops.square(1.0 - ops.sum(weights, axis=1))
    if memory_mask is None:
        return ops.mean(squared)
    valid = ops.cast(memory_mask, squared.dtype)
    return ops.sum(squared * valid) / ops.maximum(ops.sum(valid), 1.0)


def _coverage_error(layer):
    return ValueError(
        f"{type(layer).__name__} {layer.name!r} was built without coverage; "
        "construct it with coverage=True to pass `coverage`"
    )


class _Attention(keras.layers.Layer):
    """Shared call logic: shapes, masking, coverage, softmax and the context vectors.

    A Keras mask on the query (e.g. target padding) passes on to the outputs.
    """

    def __init__(self, coverage=False, **kwargs):
        super().__init__(**kwargs)
        self.coverage = coverage
        self.supports_masking = True

    def compute_mask(self, query, previous_mask=None):
        return previous_mask, previous_mask

    def _scores(self, query, memory, coverage=None):
        raise NotImplementedError

    def _valid(self, scores, memory_mask, query, memory, **kwargs):
        if memory_mask is None:
            return ops.ones_like(scores, dtype="bool")
        return ops.broadcast_to(
            ops.cast(memory_mask, "bool")[:, None, :], ops.shape(scores)
        )

    def _bias(self, scores, memory_mask, query, **kwargs):
        return scores

    def call(self, query, memory, memory_mask=None, positions=None, coverage=None):
        if coverage is not None and not self.coverage:
            raise _coverage_error(self)
        single_step = len(query.shape) == 2
        if single_step:
            query = query[:, None, :]
            positions = None if positions is None else ops.reshape(positions, (-1, 1))
            coverage = None if coverage is None else coverage[:, None, :]
        if self.coverage and coverage is None:
            coverage = ops.zeros(
                (ops.shape(query)[0], ops.shape(query)[1], ops.shape(memory)[1]),
                dtype=query.dtype,
            )
        if coverage is not None:
            coverage = ops.cast(coverage, query.dtype)
        scores = self._scores(query, memory, coverage)
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

    def get_config(self):
        config = super().get_config()
        config.update(coverage=self.coverage)
        return config


class _ScoredAttention(_Attention):
    """Attention with one of Luong's score functions (dot, general, concat)."""

    def __init__(self, score="general", units=None, coverage=False, **kwargs):
        super().__init__(coverage=coverage, **kwargs)
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
        if self.coverage:
            # A vector inside the tanh for concat, a scalar on the score otherwise.
            shape = (self.units or query_features,) if self.score == "concat" else ()
            self.coverage_kernel = self.add_weight(
                shape=shape, initializer="zeros", name="coverage_kernel"
            )

    def _scores(self, query, memory, coverage=None):
        if self.score == "concat":
            return additive_scores(
                query,
                memory,
                self.query_kernel,
                self.memory_kernel,
                self.vector,
                coverage=coverage,
                coverage_kernel=self.coverage_kernel if self.coverage else None,
            )
        if self.score == "dot":
            scores = ops.matmul(query, ops.transpose(memory, (0, 2, 1)))
        else:
            scores = ops.matmul(
                ops.matmul(query, self.kernel), ops.transpose(memory, (0, 2, 1))
            )
        if coverage is not None:
            scores = scores + self.coverage_kernel * coverage
        return scores

    def get_config(self):
        config = super().get_config()
        config.update(score=self.score, units=self.units)
        return config


def additive_scores(
    query,
    memory,
    query_kernel,
    memory_kernel,
    vector,
    coverage=None,
    coverage_kernel=None,
    bias=None,
):
    """v . tanh(W_q q_t + W_m m_s + w_c c_ts + b) for every query step t and position s.

    `query` is `[batch, steps, query_features]`, `coverage` (optional, with
    `coverage_kernel` `[units]`) `[batch, steps, source]`; returns
    `[batch, steps, source]`.
    """
    projected_query = ops.matmul(query, query_kernel)[:, :, None, :]
    projected_memory = ops.matmul(memory, memory_kernel)[:, None, :, :]
    hidden = projected_query + projected_memory
    if coverage is not None:
        hidden = hidden + coverage[..., None] * coverage_kernel
    if bias is not None:
        hidden = hidden + bias
    return ops.matmul(ops.tanh(hidden), vector)


@keras.saving.register_keras_serializable(package="recurrent")
class LuongAttention(_ScoredAttention):
    """Luong global attention: every memory position is scored against the query.

    score(h_t, h_s) is h_t . h_s ("dot"), h_t W h_s ("general") or
    v . tanh(W [h_t; h_s]) ("concat"). With coverage, "dot" and "general" add
    w_c * c_s (w_c a learned scalar) and "concat" adds w_c c_s inside the tanh
    (w_c a learned vector), c_s being the coverage of position s.

    Args:
        score: "dot", "general" or "concat".
        units: size of the concat projection (default: the query size).
        coverage: build the coverage weight and accept `coverage` in `call`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        query: `[batch, query_features]` or `[batch, steps, query_features]`.
        memory: `[batch, source, memory_features]`.
        memory_mask: optional boolean `[batch, source]`; False marks padding.
        positions: unused (accepted so every attention layer is called alike).
        coverage: optional `[batch, source]` or `[batch, steps, source]`, the
            sum of the previous steps' weights (only with `coverage=True`;
            zeros when left out).

    Returns:
        `(context, weights)`: `[..., memory_features]` and `[..., source]`.

    Example:
        >>> layer = LuongAttention("general")
        >>> context, weights = layer(keras.ops.ones((2, 4)), keras.ops.ones((2, 7, 4)))
        >>> tuple(context.shape), tuple(weights.shape)
        ((2, 4), (2, 7))

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural
        Machine Translation", EMNLP 2015, section 3.1. Coverage: See, Liu and
        Manning, "Get To The Point: Summarization with Pointer-Generator
        Networks", ACL 2017, section 2.3.
    """


@keras.saving.register_keras_serializable(package="recurrent")
class LocalAttention(_ScoredAttention):
    """Luong local attention: only a window [p_t - D, p_t + D] of the memory is attended.

    "monotonic" (local-m) centres the window on the query's own position,
    p_t = t (clipped to the source length). "predictive" (local-p) predicts
    p_t = S * sigmoid(v_p . tanh(W_p h_t)), with S the source length, and
    favours positions near p_t with a Gaussian of sigma = D / 2. The weights are
    renormalised over the window so that they sum to 1. Coverage enters the
    score as for `LuongAttention`.

    Args:
        mode: "monotonic" or "predictive".
        window: D, the half width of the window.
        score: "dot", "general" or "concat".
        units: size of the concat and position projections (default: the
            query size).
        coverage: build the coverage weight and accept `coverage` in `call`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        query, memory, memory_mask, coverage: as `LuongAttention`.
        positions: the query steps' target positions t, `[batch]` for one step
            (needed by "monotonic"); a sequence query uses 0, 1, 2, ...

    Returns:
        `(context, weights)`, as `LuongAttention`.

    Reference:
        Luong, Pham and Manning, EMNLP 2015, section 3.2.
    """

    def __init__(
        self,
        mode="predictive",
        window=10,
        score="general",
        units=None,
        coverage=False,
        **kwargs,
    ):
        super().__init__(score=score, units=units, coverage=coverage, **kwargs)
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
    """Additive attention: score(q, m_s) = v . tanh(W_q q + W_m m_s (+ w_c c_s) (+ b)).

    With `coverage=True`, w_c c_s (w_c a learned vector, c_s the coverage of
    position s) joins the sum inside the tanh, as in See et al. (2017), eq. 11;
    `use_bias=True` adds their bias b_attn.

    Args:
        units: size of the additive projection.
        coverage: build w_c and accept `coverage` in `call`.
        use_bias: add a learned bias b inside the tanh.
        **kwargs: base `Layer` arguments.

    Call arguments, returns: as `LuongAttention`.

    Reference:
        Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly
        Learning to Align and Translate", ICLR 2015. Coverage: See, Liu and
        Manning, "Get To The Point: Summarization with Pointer-Generator
        Networks", ACL 2017.
    """

    def __init__(self, units=128, coverage=False, use_bias=False, **kwargs):
        super().__init__(coverage=coverage, **kwargs)
        self.units = units
        self.use_bias = use_bias

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
        if self.coverage:
            self.coverage_kernel = self.add_weight(
                shape=(self.units,), initializer="zeros", name="coverage_kernel"
            )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), initializer="zeros", name="bias"
            )

    def _scores(self, query, memory, coverage=None):
        return additive_scores(
            query,
            memory,
            self.query_kernel,
            self.memory_kernel,
            self.vector,
            coverage=coverage,
            coverage_kernel=self.coverage_kernel if self.coverage else None,
            bias=self.bias if self.use_bias else None,
        )

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, use_bias=self.use_bias)
        return config


ATTENTIONS = {
    "none": None,
    "global": LuongAttention,
    "local": LocalAttention,
    "bahdanau": BahdanauAttention,
}
NAMES = tuple(ATTENTIONS)


def get(kind: str, *, lenient: bool = False, **kwargs) -> keras.layers.Layer | None:
    """Builds an attention layer by name (see `NAMES`); "none" gives None.

    Args:
        kind: "none", "global" (`LuongAttention`), "local" (`LocalAttention`)
            or "bahdanau" (`BahdanauAttention`), case-insensitive.
        lenient: drop the keyword arguments the chosen layer does not take, so
            that one set of settings (score, mode, window, units, coverage,
            name...) serves every kind.
        **kwargs: the layer's constructor arguments.

    Raises:
        UserInputError: for an unknown name, listing the valid ones.
    """
    layer_class = lookup(ATTENTIONS, kind, "attention")
    if layer_class is None:
        return None
    if lenient:
        accepted = _accepted_arguments(layer_class)
        kwargs = {key: value for key, value in kwargs.items() if key in accepted}
    return layer_class(**kwargs)


def _accepted_arguments(layer_class) -> set:
    names = {"name", "dtype", "trainable"}
    for cls in layer_class.__mro__:
        if cls is _Attention.__base__:
            break
        names |= set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    return names
