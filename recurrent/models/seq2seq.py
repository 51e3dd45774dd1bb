"""An encoder-decoder with attention over token sequences, ready for the decoders."""

import functools

import keras
from keras import ops

from recurrent.layers.decoder import AttentionDecoder, StateBridge
from recurrent.layers.recurrent import RecurrentEncoder, state_count


def at_least_one_step(source):
    """`[batch, source]` ids with one padding column added when there are none.

    Recurrent layers cannot run zero steps. A padding column is masked
    everywhere, so the row reads as nothing: initial encoder states, a memory
    attended with weights 0 (`masked_softmax`), hence a zero context.
    """
    missing = ops.maximum(1 - ops.shape(source)[1], 0)
    return ops.pad(source, [[0, 0], [0, missing]])


def one_row_if_empty(method):
    """Runs `method(self, *args)` on one added padding row when the batch is
    known to be 0, and returns its outputs with that row dropped.

    Keras' TensorFlow `ops.add` mistakes an operand of static shape `[0, n]`
    for a bias (it drops dimensions <= 1) and calls `BiasAdd`, which fails:
    every recurrent cell breaks on a batch known to be empty (eager, or traced
    from a constant). An empty batch of unknown size (a serving signature)
    takes the plain path.
    """

    def pad_row(x):
        return ops.pad(x, [[0, 1]] + [[0, 0]] * (len(x.shape) - 1))

    @functools.wraps(method)
    def wrapped(self, *args):
        args = keras.tree.map_structure(ops.convert_to_tensor, args)
        if keras.tree.flatten(args)[0].shape[0] != 0:
            return method(self, *args)
        outputs = method(self, *keras.tree.map_structure(pad_row, args))
        return keras.tree.map_structure(lambda x: x[:0], outputs)

    return wrapped


@keras.saving.register_keras_serializable(package="recurrent")
class Seq2Seq(keras.Model):
    """Token sequence to token sequence: embedding, recurrent encoder, attention decoder.

    The encoder is a (stacked, optionally bidirectional) `RecurrentEncoder`
    whose outputs are the attention memory; a `StateBridge` turns its final
    states into the decoder's initial states; the `AttentionDecoder` predicts
    the target. A bidirectional encoder gives each direction `units // 2`, so
    the memory is `units` wide and every Luong score (dot included) applies.

    Training calls the model on `{"source": [batch, source], "target_in":
    [batch, steps]}` (the target shifted right behind a start token) and gets
    next-token logits `[batch, steps, target_vocabulary_size]`. Decoding uses
    `encode` and `decode_step`, which fit every algorithm of
    `recurrent.decoding`; the memory travels in the decoder state, so beam
    search reorders it with the rest. Decoding takes any batch, an empty one
    included, and any source, one of no tokens or all padding included: such
    a row is decoded from the encoder's initial states and a zero context.

    Args:
        source_vocabulary_size: source ids, 0 being padding.
        target_vocabulary_size: target ids, 0 being padding.
        embedding_dim: size of the source and target embeddings.
        units: decoder state size, and the width of the memory.
        cell: "simple", "lstm" or "gru", for encoder and decoder.
        encoder_layers: stacked encoder layers.
        bidirectional: read the source in both directions.
        bridge: how encoder states start the decoder: "copy", "dense", "zero".
        attention: "global", "local", "bahdanau" or "none".
        score: Luong score "dot", "general" or "concat".
        local_mode: "monotonic" (local-m) or "predictive" (local-p).
        window: half width D of the local window.
        input_feeding: feed the previous attentional vector into each step.
        dropout: dropout on the source embeddings and the attentional vectors.
        init_scale: every weight but the biases starts uniform in
            [-init_scale, init_scale], as in Luong et al.; 0 keeps Keras'
            initialisers. Keras' small defaults (embeddings within 0.05, Glorot
            over a 10,000-word softmax) leave the decoder predicting the most
            frequent word for hundreds of steps; 0.1 escapes that plateau at once.
        **kwargs: base `Model` arguments.

    Example:
        >>> model = Seq2Seq(50, 60, embedding_dim=8, units=8)
        >>> logits = model({"source": keras.ops.ones((2, 5), "int32"),
        ...                 "target_in": keras.ops.ones((2, 4), "int32")})
        >>> tuple(logits.shape)
        (2, 4, 60)

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural
        Machine Translation", EMNLP 2015.
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        embedding_dim=256,
        units=256,
        cell="lstm",
        encoder_layers=1,
        bidirectional=True,
        bridge="dense",
        attention="global",
        score="general",
        local_mode="predictive",
        window=10,
        input_feeding=False,
        dropout=0.0,
        init_scale=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(
                f"a bidirectional encoder splits units between its directions; "
                f"units must be even, got {units}"
            )
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.encoder_layers = encoder_layers
        self.bidirectional = bidirectional
        self.bridge = bridge
        self.attention = attention
        self.score = score
        self.local_mode = local_mode
        self.window = window
        self.input_feeding = input_feeding
        self.dropout = dropout
        self.init_scale = init_scale
        self.source_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            mask_zero=True,
            name="source_embedding",
        )
        self.source_dropout = keras.layers.Dropout(dropout)
        self.encoder = RecurrentEncoder(
            units // 2 if bidirectional else units,
            cell=cell,
            num_layers=encoder_layers,
            bidirectional=bidirectional,
            merge_mode="concat",
            name="encoder",
        )
        self.state_bridge = StateBridge(units, mode=bridge, name="bridge")
        self.decoder = AttentionDecoder(
            target_vocabulary_size,
            embedding_dim,
            units,
            cell=cell,
            attention=attention,
            score=score,
            local_mode=local_mode,
            window=window,
            input_feeding=input_feeding,
            dropout=dropout,
            name="decoder",
        )

    def build(self, inputs_shape=None):
        self.source_embedding.build((None, None))
        self.encoder.build((None, None, self.embedding_dim))
        self.state_bridge.build([(None, self.units)] * state_count(self.cell))
        self.decoder.build((None, None), (None, None, self.units))
        if self.init_scale > 0:
            uniform = keras.initializers.RandomUniform(
                -self.init_scale, self.init_scale
            )
            for weight in self.weights:
                if not weight.path.endswith("bias"):
                    weight.assign(uniform(weight.shape))
        self.built = True

    def _encode(self, source, training=None):
        source = at_least_one_step(source)
        mask = ops.not_equal(source, 0)
        embedded = self.source_dropout(self.source_embedding(source), training=training)
        memory, states = self.encoder(embedded, mask=mask, training=training)
        return memory, mask, self.state_bridge(states)

    def call(self, inputs, training=None):
        memory, mask, states = self._encode(inputs["source"], training)
        logits, _ = self.decoder(
            inputs["target_in"],
            memory,
            memory_mask=mask,
            initial_states=states,
            training=training,
        )
        return logits

    @one_row_if_empty
    def encode(self, source):
        """The decoding state after reading `source` `[batch, source]` int ids.

        Returns:
            A dict `{"decoder": ..., "memory": ..., "memory_mask": ...}` whose
            tensors all have `batch` rows, for `decode_step`.
        """
        if not self.built:
            self.build()
        memory, mask, states = self._encode(source, training=False)
        return {
            "decoder": self.decoder.initial_step_state(states, ops.shape(source)[0]),
            "memory": memory,
            "memory_mask": mask,
        }

    @one_row_if_empty
    def decode_step(self, tokens, state):
        """`step_fn` of `recurrent.decoding`: `[n]` tokens -> (`[n, vocab]` log-probs, state)."""
        logits, decoder_state, _ = self.decoder.step(
            tokens, state["decoder"], state["memory"], state["memory_mask"]
        )
        return ops.log_softmax(logits, axis=-1), {**state, "decoder": decoder_state}

    @one_row_if_empty
    def attention_weights(self, source, target_in):
        """Attention weights `[batch, steps, source]` of the decoder fed `target_in`.

        Fed a decoded sequence (behind the start token), these are the weights
        the decoder used while producing it. They are 0 on padding, so a row
        with no source token has weights 0 everywhere.
        """
        memory, mask, states = self._encode(source, training=False)
        _, weights = self.decoder(
            target_in, memory, memory_mask=mask, initial_states=states
        )
        return weights[:, :, : ops.shape(source)[1]]

    def get_config(self):
        config = super().get_config()
        config.update(
            source_vocabulary_size=self.source_vocabulary_size,
            target_vocabulary_size=self.target_vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            encoder_layers=self.encoder_layers,
            bidirectional=self.bidirectional,
            bridge=self.bridge,
            attention=self.attention,
            score=self.score,
            local_mode=self.local_mode,
            window=self.window,
            input_feeding=self.input_feeding,
            dropout=self.dropout,
            init_scale=self.init_scale,
        )
        return config
