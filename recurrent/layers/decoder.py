"""The attention decoder of sequence-to-sequence models, and the encoder-to-decoder bridge."""

import keras
from keras import ops

from recurrent.choices import lookup
from recurrent.layers import attention as attentions
from recurrent.layers.recurrent import get_rnn

BRIDGES = ("copy", "dense", "zero")


@keras.saving.register_keras_serializable(package="recurrent")
class StateBridge(keras.layers.Layer):
    """Turns an encoder's final states into a decoder's initial states.

    "copy" passes them through (the widths must match), "dense" maps each
    through its own Dense layer with tanh, "zero" starts the decoder from zeros.

    Args:
        units: the decoder's state size.
        mode: "copy", "dense" or "zero".
        **kwargs: base `Layer` arguments.

    Call arguments:
        states: list of `[batch, width]` encoder states (`[h, c]` or `[h]`).

    Returns:
        A list of `[batch, units]` tensors, one per state.
    """

    def __init__(self, units, mode="copy", **kwargs):
        super().__init__(**kwargs)
        lookup(dict.fromkeys(BRIDGES), mode, "state bridge")
        self.units = units
        self.mode = mode
        self.projections = [
            keras.layers.Dense(units, activation="tanh", name=f"state_{index}")
            for index in range(2 if mode == "dense" else 0)
        ]

    def build(self, states_shape):
        for projection, shape in zip(self.projections, states_shape, strict=False):
            projection.build(shape)

    def call(self, states):
        if self.mode == "zero":
            return [ops.zeros((ops.shape(state)[0], self.units)) for state in states]
        if self.mode == "dense":
            return [
                projection(state)
                for projection, state in zip(self.projections, states, strict=True)
            ]
        widths = {state.shape[-1] for state in states}
        if widths != {self.units}:
            raise ValueError(
                f"copy needs encoder states of width {self.units}, got {sorted(widths)}; "
                "use mode='dense'"
            )
        return list(states)

    def compute_output_shape(self, states_shape):
        return [(shape[0], self.units) for shape in states_shape]

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, mode=self.mode)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class AttentionDecoder(keras.layers.Layer):
    """Luong-style attention decoder with a teacher-forced `call` and a single `step`.

    In `call` the recurrent layer runs over the whole target sequence first
    (one Keras RNN, eligible for fused kernels), then attention is applied to
    its outputs h_t, giving the attentional vectors h~_t = tanh(W_c [c_t; h_t])
    and the next-token logits W_s h~_t. `step` advances the same weights by one
    token for decoding. With `input_feeding`, h~_{t-1} joins the next input, so
    `call` steps the cell in a `keras.ops.fori_loop` instead.

    Args:
        vocabulary_size: target vocabulary, id 0 being padding.
        embedding_dim: size of the target embeddings.
        units: decoder state size.
        cell: "simple", "lstm" or "gru".
        attention: "global", "local", "bahdanau" or "none".
        score: Luong score for global and local attention.
        local_mode: "monotonic" or "predictive", for local attention.
        window: half width D of the local window.
        input_feeding: feed h~_{t-1} into step t.
        dropout: dropout on the attentional vectors.
        **kwargs: base `Layer` arguments.

    Call arguments:
        tokens: `[batch, steps]` int target inputs (start token first).
        memory: `[batch, source, memory_features]` encoder outputs.
        memory_mask: optional boolean `[batch, source]`.
        initial_states: list of decoder initial states (from a `StateBridge`).
        training: Python boolean.

    Returns:
        `(logits, weights)`: `[batch, steps, vocabulary_size]` and the attention
        weights `[batch, steps, source]` (zeros without attention).

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural
        Machine Translation", EMNLP 2015.
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        units,
        cell="lstm",
        attention="global",
        score="general",
        local_mode="predictive",
        window=10,
        input_feeding=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.attention = attention
        self.score = score
        self.local_mode = local_mode
        self.window = window
        self.input_feeding = input_feeding
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.rnn = get_rnn(
            cell, units, return_sequences=True, return_state=True, name=cell
        )
        if attention == "none":
            self.attend = None
        elif attention == "local":
            self.attend = attentions.get(
                "local", mode=local_mode, window=window, score=score, name="attention"
            )
        elif attention == "bahdanau":
            self.attend = attentions.get("bahdanau", units=units, name="attention")
        else:
            self.attend = attentions.get(attention, score=score, name="attention")
        self.combine = keras.layers.Dense(
            units, activation="tanh", use_bias=False, name="combine"
        )
        self.drop = keras.layers.Dropout(dropout)
        self.project = keras.layers.Dense(vocabulary_size, name="logits")

    def build(
        self,
        tokens_shape,
        memory_shape,
        memory_mask_shape=None,
        initial_states_shape=None,
    ):
        feed = self.units if self.input_feeding else 0
        self.embedding.build(tokens_shape)
        self.rnn.build((None, None, self.embedding_dim + feed))
        if self.attend is not None:
            self.attend.build((None, None, self.units), memory_shape)
            self.combine.build((None, None, self.units + memory_shape[-1]))
        self.project.build((None, None, self.units))

    def _attentional(self, hidden, memory, memory_mask, positions=None, training=None):
        if self.attend is None:
            batch_shape = ops.shape(hidden)[:-1]
            weights = ops.zeros(tuple(batch_shape) + (ops.shape(memory)[1],))
            return hidden, weights
        context, weights = self.attend(
            hidden, memory, memory_mask=memory_mask, positions=positions
        )
        combined = self.combine(ops.concatenate([context, hidden], axis=-1))
        return self.drop(combined, training=training), weights

    def call(
        self, tokens, memory, memory_mask=None, initial_states=None, training=None
    ):
        embedded = self.embedding(tokens)
        if not self.input_feeding:
            outputs, *_ = self.rnn(
                embedded,
                initial_state=initial_states,
                mask=ops.not_equal(tokens, 0),
                training=training,
            )
            attentional, weights = self._attentional(
                outputs, memory, memory_mask, training=training
            )
            return self.project(attentional), weights
        steps = ops.shape(tokens)[1]
        batch = ops.shape(tokens)[0]

        def one_step(t, carry):
            state, attentional, weights = carry
            vector, state, step_weights = self._advance(
                ops.take(embedded, t, axis=1), state, memory, memory_mask, training
            )
            at_t = ops.one_hot(t, steps)[None, :, None]
            attentional = attentional + at_t * vector[:, None, :]
            return state, attentional, weights + at_t * step_weights[:, None, :]

        carry = (
            self.initial_step_state(initial_states, batch),
            ops.zeros((batch, steps, self.units)),
            ops.zeros((batch, steps, ops.shape(memory)[1])),
        )
        _, attentional, weights = ops.fori_loop(0, steps, one_step, carry)
        return self.project(attentional), weights

    def initial_step_state(self, initial_states, batch_size):
        """The state `step` starts from: the RNN states, h~_0 = 0 and position 0."""
        if initial_states is None:
            count = 2 if self.cell.lower() == "lstm" else 1
            initial_states = [ops.zeros((batch_size, self.units))] * count
        previous = ops.zeros((batch_size, self.units))
        position = ops.zeros((batch_size,), dtype="int32")
        return {
            "rnn": list(initial_states),
            "attentional": previous,
            "position": position,
        }

    def _advance(self, token_embedding, state, memory, memory_mask, training=None):
        """One step of the recurrence: (h~_t, new state, attention weights)."""
        inputs = token_embedding
        if self.input_feeding:
            inputs = ops.concatenate([token_embedding, state["attentional"]], axis=-1)
        hidden, rnn_state = self.rnn.cell(inputs, state["rnn"], training=training)
        rnn_state = (
            list(rnn_state) if isinstance(rnn_state, list | tuple) else [rnn_state]
        )
        attentional, weights = self._attentional(
            hidden, memory, memory_mask, positions=state["position"], training=training
        )
        new_state = {
            "rnn": rnn_state,
            "attentional": attentional,
            "position": state["position"] + 1,
        }
        return attentional, new_state, weights

    def step(self, tokens, state, memory, memory_mask=None):
        """One decoding step: `[batch]` tokens -> (`[batch, vocab]` logits, state, weights)."""
        # A plain lookup: the single step needs the vectors, not the padding mask.
        embedded = ops.take(
            self.embedding.embeddings, ops.cast(tokens, "int32"), axis=0
        )
        attentional, state, weights = self._advance(
            embedded, state, memory, memory_mask
        )
        return self.project(attentional), state, weights

    def compute_output_shape(
        self,
        tokens_shape,
        memory_shape,
        memory_mask_shape=None,
        initial_states_shape=None,
    ):
        steps = tuple(tokens_shape)
        return steps + (self.vocabulary_size,), steps + (memory_shape[1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            attention=self.attention,
            score=self.score,
            local_mode=self.local_mode,
            window=self.window,
            input_feeding=self.input_feeding,
            dropout=self.dropout,
        )
        return config
