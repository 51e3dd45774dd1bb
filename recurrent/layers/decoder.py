"""The attention decoder of sequence-to-sequence models, and the encoder-to-decoder bridge."""

import keras
from keras import ops

from recurrent.choices import lookup
from recurrent.layers import attention as attentions
from recurrent.layers.recurrent import get_rnn

BRIDGES = ("copy", "dense", "zero")
ORDERINGS = ("luong", "bahdanau")


@keras.saving.register_keras_serializable(package="recurrent")
class StateBridge(keras.layers.Layer):
    """Turns an encoder's final states into a decoder's initial states.

    "copy" passes them through (the widths must match), "dense" maps each
    through its own Dense layer with tanh (one per state, made in `build` from
    the states' shapes: two for an LSTM's [h, c], one for a GRU's or a
    SimpleRNN's [h]), "zero" starts the decoder from zeros.

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
        self.projections = []

    def build(self, states_shape):
        # One projection per state, known only now: [h, c] for LSTM, [h] otherwise.
        if self.mode == "dense" and not self.projections:
            self.projections = [
                keras.layers.Dense(self.units, activation="tanh", name=f"state_{index}")
                for index in range(len(states_shape))
            ]
        for projection, shape in zip(self.projections, states_shape, strict=False):
            projection.build(shape)

    def call(self, states):
        if self.mode == "zero":
            return [ops.zeros((ops.shape(state)[0], self.units)) for state in states]
        if self.mode == "dense":
            if len(states) != len(self.projections):
                raise ValueError(
                    f"this bridge was built for {len(self.projections)} states, "
                    f"got {len(states)}"
                )
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
    """Attention decoder with a teacher-forced `call` and a single `step`.

    Two orderings of the recurrence and the attention:

    - "luong" (Luong et al. 2015): the cell runs first, h_t = RNN(x_t, h_{t-1});
      attention reads the memory with h_t, c_t = attend(h_t); the attentional
      vector h~_t = tanh(W_c [c_t; h_t]) gives the logits W_s h~_t.
    - "bahdanau" (Bahdanau et al. 2015; Show, Attend and Tell, Xu et al. 2015):
      attention reads the memory with the previous state, c_t = attend(h_{t-1})
      (h of an LSTM's (h, c)); the context joins the cell input,
      h_t = RNN([x_t; c_t], h_{t-1}); the output is h~_t = tanh(W_c [c_t; h_t]).
      With `gate=True` the context is scaled by beta_t = sigmoid(W_b h_{t-1})
      first (Xu et al. 2015, section 4.2.1).

    With `deep_output`, the previous word joins the output layer (Xu et al.
    2015, eq. 7; Pascanu et al. 2014): h~_t = tanh(W_c [c_t; h_t; E y_{t-1}]),
    also without attention (h~_t = tanh(W_c [h_t; E y_{t-1}])).

    With `input_feeding`, h~_{t-1} also joins the input of step t. With
    `coverage`, the decoder carries the coverage c_t = sum_{t' < t} a_t' (the
    sum of the previous steps' attention weights) and the attention scores it
    (See et al. 2017).

    `call` is teacher-forced. For plain Luong ordering (no input feeding, no
    coverage) the recurrent layer runs over the whole target sequence first
    (one Keras RNN, eligible for fused kernels) and attention is applied to
    all its outputs at once. Otherwise each step needs the previous one's
    attention, so `call` steps the same cell in a `keras.ops.scan` that writes
    each step's outputs once (O(T)); padded target steps (token 0) leave the
    state, h~ and coverage unchanged. `step` advances the same weights by one
    token for decoding.

    Args:
        vocabulary_size: target vocabulary, id 0 being padding.
        embedding_dim: size of the target embeddings.
        units: decoder state size.
        cell: "simple", "lstm" or "gru".
        attention: one of `attention.NAMES`: "none", "global", "local" or
            "bahdanau".
        score: Luong score for global and local attention.
        local_mode: "monotonic" or "predictive", for local attention.
        window: half width D of the local window.
        input_feeding: feed h~_{t-1} into step t.
        dropout: dropout on the attentional vectors.
        ordering: "luong" or "bahdanau" (see above).
        gate: scale the context by beta_t = sigmoid(W_b h_{t-1}); needs
            `ordering="bahdanau"` and attention.
        coverage: carry the coverage in the step state and feed it to the
            attention; needs attention.
        deep_output: the previous word's embedding joins the output layer.
        **kwargs: base `Layer` arguments.

    Call arguments:
        tokens: `[batch, steps]` int target inputs (start token first).
        memory: `[batch, source, memory_features]` encoder outputs.
        memory_mask: optional boolean `[batch, source]`.
        initial_states: list of decoder initial states (from a `StateBridge`).
        training: Python boolean.
        return_details: return a dict instead of `(logits, weights)`.

    Returns:
        `(logits, weights)`: `[batch, steps, vocabulary_size]` and the attention
        weights `[batch, steps, source]` (zeros without attention). With
        `return_details=True`, a dict with "logits", "weights", "contexts"
        `[batch, steps, memory_features]` (the context vectors the decoder
        used, after the gate), "attentional" `[batch, steps, units]` (h~, or h
        without attention), and, with `coverage`, "coverage"
        `[batch, steps, source]`: the coverage each step was scored with (the
        sum of the previous steps' weights), for a coverage loss
        (`recurrent.layers.copy.coverage_loss`).

    Example:
        >>> decoder = AttentionDecoder(12, 4, 8, ordering="bahdanau", coverage=True)
        >>> memory = keras.ops.ones((2, 6, 8))
        >>> details = decoder(keras.ops.ones((2, 5), "int32"), memory,
        ...                   return_details=True)
        >>> tuple(details["coverage"].shape)
        (2, 5, 6)
        >>> state = decoder.initial_step_state(None, 2, source_length=6)
        >>> logits, state, weights = decoder.step(
        ...     keras.ops.ones((2,), "int32"), state, memory)

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural
        Machine Translation", EMNLP 2015. Bahdanau, Cho and Bengio, "Neural
        Machine Translation by Jointly Learning to Align and Translate", ICLR
        2015. Xu et al., "Show, Attend and Tell: Neural Image Caption
        Generation with Visual Attention", ICML 2015. See, Liu and Manning,
        "Get To The Point: Summarization with Pointer-Generator Networks", ACL
        2017.
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
        ordering="luong",
        gate=False,
        coverage=False,
        deep_output=False,
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
        self.ordering = ordering
        self.gate = gate
        self.coverage = coverage
        self.deep_output = deep_output
        lookup(dict.fromkeys(ORDERINGS), ordering, "decoder ordering")
        self._attend_first = str(ordering).lower() == "bahdanau"
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.rnn = get_rnn(
            cell, units, return_sequences=True, return_state=True, name=cell
        )
        self.attend = attentions.get(
            attention,
            lenient=True,
            score=score,
            mode=local_mode,
            window=window,
            units=units,
            coverage=coverage,
            name="attention",
        )
        if self.attend is None and (gate or coverage):
            raise ValueError(
                "gate and coverage act on the attention; use an attention other "
                "than 'none'"
            )
        if gate and not self._attend_first:
            raise ValueError(
                "gate=True scales the context with beta_t = sigmoid(W_b h_{t-1}); "
                "use ordering='bahdanau'"
            )
        self.context_gate = (
            keras.layers.Dense(1, activation="sigmoid", name="gate") if gate else None
        )
        self.combine = keras.layers.Dense(
            units, activation="tanh", use_bias=False, name="combine"
        )
        self.drop = keras.layers.Dropout(dropout)
        self.project = keras.layers.Dense(vocabulary_size, name="logits")

    @property
    def stepped(self) -> bool:
        """Whether the teacher-forced `call` steps the cell (else it runs in parallel)."""
        return self._attend_first or bool(self.input_feeding) or bool(self.coverage)

    def build(
        self,
        tokens_shape,
        memory_shape,
        memory_mask_shape=None,
        initial_states_shape=None,
    ):
        width = self.embedding_dim + (self.units if self.input_feeding else 0)
        if self.attend is not None and self._attend_first:
            width += memory_shape[-1]
        self.embedding.build(tokens_shape)
        self.rnn.build((None, None, width))
        if self.attend is not None:
            self.attend.build((None, None, self.units), memory_shape)
        if self.attend is not None or self.deep_output:
            combined = self.units
            combined += memory_shape[-1] if self.attend is not None else 0
            combined += self.embedding_dim if self.deep_output else 0
            self.combine.build((None, None, combined))
        if self.context_gate is not None:
            self.context_gate.build((None, self.units))
        self.project.build((None, None, self.units))

    def _attend(self, query, memory, memory_mask, positions=None, coverage=None):
        """(context, weights) for a query; zeros without attention."""
        if self.attend is None:
            leading = tuple(ops.shape(query)[:-1])
            shape = ops.shape(memory)
            return (
                ops.zeros(leading + (shape[2],), dtype=query.dtype),
                ops.zeros(leading + (shape[1],), dtype=query.dtype),
            )
        return self.attend(
            query,
            memory,
            memory_mask=memory_mask,
            positions=positions,
            coverage=coverage,
        )

    def _output(self, hidden, context, embedded, training=None):
        """h~ = tanh(W_c [c; h]) (with E y_{t-1} for a deep output), with
        dropout; h itself without attention or deep output."""
        parts = [context] if self.attend is not None else []
        parts.append(hidden)
        if self.deep_output:
            parts.append(embedded)
        if len(parts) == 1:
            return hidden
        combined = self.combine(ops.concatenate(parts, axis=-1))
        return self.drop(combined, training=training)

    def call(
        self,
        tokens,
        memory,
        memory_mask=None,
        initial_states=None,
        training=None,
        return_details=False,
    ):
        if self.stepped:
            details = self._stepped(
                tokens, memory, memory_mask, initial_states, training
            )
        else:
            details = self._parallel(
                tokens, memory, memory_mask, initial_states, training
            )
        if return_details:
            return details
        return details["logits"], details["weights"]

    def _parallel(
        self, tokens, memory, memory_mask=None, initial_states=None, training=None
    ):
        """Luong ordering: the RNN over all steps, then attention over all outputs."""
        embedded = self.embedding(tokens)
        outputs, *_ = self.rnn(
            embedded,
            initial_state=initial_states,
            mask=ops.not_equal(tokens, 0),
            training=training,
        )
        contexts, weights = self._attend(outputs, memory, memory_mask)
        attentional = self._output(outputs, contexts, embedded, training)
        return {
            "logits": self.project(attentional),
            "weights": weights,
            "contexts": contexts,
            "attentional": attentional,
        }

    def _stepped(
        self, tokens, memory, memory_mask=None, initial_states=None, training=None
    ):
        """Any ordering: the cell stepped in a scan, each step's outputs written once."""
        embedded = self.embedding(tokens)
        batch, source = ops.shape(tokens)[0], ops.shape(memory)[1]
        state = self.initial_step_state(initial_states, batch, source)
        dtype = embedded.dtype
        outputs = {
            "attentional": ops.zeros((batch, self.units), dtype),
            "weights": ops.zeros((batch, source), dtype),
            "contexts": ops.zeros((batch, ops.shape(memory)[2]), dtype),
        }
        if self.coverage:
            outputs["coverage"] = ops.zeros((batch, source), dtype)

        def one_step(carry, inputs):
            state, _ = carry
            token_embedding, valid = inputs[:, :-1], inputs[:, -1] > 0.5
            attentional, new_state, weights, context = self._advance(
                token_embedding, state, memory, memory_mask, training
            )
            step_outputs = {
                "attentional": attentional,
                "weights": weights,
                "contexts": context,
            }
            if self.coverage:
                step_outputs["coverage"] = state["coverage"]
            # Padded target steps leave the state as it was.
            new_state = keras.tree.map_structure(
                lambda new, old: _where_rows(valid, new, old), new_state, state
            )
            # ops.scan stacks outputs shaped like the carry: the carry holds them.
            carry = (new_state, step_outputs)
            return carry, carry

        # One tensor of [steps, batch, embedding + 1] (the validity last):
        # Keras' TensorFlow scan fails on several sequences of unknown length.
        valid = ops.cast(ops.not_equal(tokens, 0), dtype)[:, :, None]
        sequences = ops.transpose(ops.concatenate([embedded, valid], -1), (1, 0, 2))
        _, (_, stacked) = ops.scan(one_step, (state, outputs), sequences)
        steps = ops.shape(tokens)[1]
        # ... and it loses the outputs' static shapes: give them back.
        stacked = {
            key: ops.moveaxis(
                ops.reshape(value, (steps, batch, outputs[key].shape[-1] or -1)), 0, 1
            )
            for key, value in stacked.items()
        }
        return {"logits": self.project(stacked["attentional"]), **stacked}

    def initial_step_state(self, initial_states, batch_size, source_length=None):
        """The state `step` starts from.

        Args:
            initial_states: the RNN's initial states (e.g. from a
                `StateBridge`), or None for zeros.
            batch_size: rows of the batch.
            source_length: the memory's length (`ops.shape(memory)[1]`);
                needed with `coverage=True` for the zero coverage.

        Returns:
            A dict: "rnn" (the list of RNN states), "attentional" (h~_0 = 0),
            "position" (0, `[batch]` int32) and, with coverage, "coverage"
            (zeros `[batch, source_length]`).
        """
        if initial_states is None:
            count = 2 if self.cell.lower() == "lstm" else 1
            initial_states = [ops.zeros((batch_size, self.units))] * count
        state = {
            "rnn": list(initial_states),
            "attentional": ops.zeros((batch_size, self.units)),
            "position": ops.zeros((batch_size,), dtype="int32"),
        }
        if self.coverage:
            if source_length is None:
                raise ValueError(
                    "a decoder with coverage=True needs source_length (the "
                    "memory's length) to start its coverage: "
                    "initial_step_state(states, batch_size, source_length)"
                )
            state["coverage"] = ops.zeros((batch_size, source_length))
        return state

    def _advance(self, token_embedding, state, memory, memory_mask, training=None):
        """One step: (h~_t, new state, attention weights, context)."""
        coverage = state.get("coverage")
        inputs = [token_embedding]
        if self.input_feeding:
            inputs.append(state["attentional"])
        if self._attend_first:
            previous = state["rnn"][0]
            context, weights = self._attend(
                previous,
                memory,
                memory_mask,
                positions=state["position"],
                coverage=coverage,
            )
            if self.context_gate is not None:
                context = self.context_gate(previous) * context
            if self.attend is not None:
                inputs.append(context)
        inputs = inputs[0] if len(inputs) == 1 else ops.concatenate(inputs, axis=-1)
        hidden, rnn_state = self.rnn.cell(inputs, state["rnn"], training=training)
        rnn_state = (
            list(rnn_state) if isinstance(rnn_state, list | tuple) else [rnn_state]
        )
        if not self._attend_first:
            context, weights = self._attend(
                hidden,
                memory,
                memory_mask,
                positions=state["position"],
                coverage=coverage,
            )
        attentional = self._output(hidden, context, token_embedding, training)
        new_state = {
            "rnn": rnn_state,
            "attentional": attentional,
            "position": state["position"] + 1,
        }
        if self.coverage:
            new_state["coverage"] = coverage + weights
        return attentional, new_state, weights, context

    def step(self, tokens, state, memory, memory_mask=None, return_details=False):
        """One decoding step: `[batch]` tokens -> (`[batch, vocab]` logits, state, weights).

        With `return_details`, the first output is a dict of "logits",
        "weights", "contexts", "attentional" and "inputs" (the token
        embeddings), one row per token, as a copy output layer needs them.
        """
        # A plain lookup: the single step needs the vectors, not the padding mask.
        embedded = ops.take(
            self.embedding.embeddings, ops.cast(tokens, "int32"), axis=0
        )
        attentional, state, weights, context = self._advance(
            embedded, state, memory, memory_mask
        )
        logits = self.project(attentional)
        if not return_details:
            return logits, state, weights
        details = {
            "logits": logits,
            "weights": weights,
            "contexts": context,
            "attentional": attentional,
            "inputs": embedded,
        }
        return details, state, weights

    def compute_output_shape(
        self,
        tokens_shape,
        memory_shape,
        memory_mask_shape=None,
        initial_states_shape=None,
    ):
        steps = tuple(tokens_shape)
        return steps + (self.vocabulary_size,), steps + (memory_shape[1],)

    def compute_output_spec(
        self,
        tokens,
        memory,
        memory_mask=None,
        initial_states=None,
        training=None,
        return_details=False,
    ):
        logits_shape, weights_shape = self.compute_output_shape(
            tokens.shape, memory.shape
        )
        logits = keras.KerasTensor(logits_shape, dtype=self.compute_dtype)
        weights = keras.KerasTensor(weights_shape, dtype=self.compute_dtype)
        if not return_details:
            return logits, weights
        contexts_shape = tuple(tokens.shape) + (memory.shape[-1],)
        details = {
            "logits": logits,
            "weights": weights,
            "contexts": keras.KerasTensor(contexts_shape, dtype=self.compute_dtype),
            "attentional": keras.KerasTensor(
                tuple(tokens.shape) + (self.units,), dtype=self.compute_dtype
            ),
        }
        if self.coverage:
            details["coverage"] = keras.KerasTensor(
                weights_shape, dtype=self.compute_dtype
            )
        return details

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
            ordering=self.ordering,
            gate=self.gate,
            coverage=self.coverage,
            deep_output=self.deep_output,
        )
        return config


def _where_rows(valid, new, old):
    """`new` where the row's `valid` ([batch] bool) is True, else `old`."""
    valid = ops.reshape(valid, (-1,) + (1,) * (len(new.shape) - 1))
    return ops.where(valid, new, old)
