"""An encoder-decoder with attention over any encoder's memory, ready for the decoders."""

import functools

import keras
from keras import ops

from recurrent.layers.decoder import AttentionDecoder, StateBridge
from recurrent.models.encoders import TokenEncoder


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
    """Source to token sequence: a pluggable encoder, a state bridge, an attention decoder.

    The encoder (a `TokenEncoder`, or any layer keeping the contract of
    `recurrent.models.encoders`) reads the source into a memory, its mask and
    final states; a `StateBridge` turns the states into the decoder's initial
    states; the `AttentionDecoder` predicts the target while attending over the
    memory. `token_seq2seq` builds the usual text-to-text model.

    Training calls the model on `{"source": ..., "target_in": [batch, steps]}`
    (the target shifted right behind a start token) and gets next-token logits
    `[batch, steps, target_vocabulary_size]`; with `return_attention=True` it
    also gets `{"weights": [batch, steps, positions], "contexts": [batch, steps,
    width]}` for attention losses. Decoding uses `encode` and `decode_step`,
    which fit every algorithm of `recurrent.decoding`; the memory travels in
    the decoder state, so beam search reorders it with the rest, and the state's
    "attention" holds the weights of the token just produced (beam search's
    `attention_key="attention"`). Decoding takes any batch, an empty one
    included, and any source the encoder takes.

    Args:
        encoder: the encoder layer (or its serialized config).
        target_vocabulary_size: target ids, 0 being padding.
        embedding_dim: size of the target embeddings.
        units: decoder state size.
        cell: "simple", "lstm" or "gru", the decoder's cell (the encoder's
            states must match it: as many, and `units` wide for bridge "copy").
        bridge: how encoder states start the decoder: "copy", "dense", "zero".
        decoder_options: further `AttentionDecoder` arguments, passed through
            unchanged (attention, score, local_mode, window, input_feeding,
            dropout...).
        share_embeddings: the encoder reads tokens with the decoder's
            embedding (one vocabulary for both sides; the encoder must have
            `share_embedding`).
        init_scale: every weight but the biases starts uniform in
            [-init_scale, init_scale], as in Luong et al.; 0 keeps Keras'
            initialisers. Keras' small defaults (embeddings within 0.05, Glorot
            over a 10,000-word softmax) leave the decoder predicting the most
            frequent word for hundreds of steps; 0.1 escapes that plateau at once.
        **kwargs: base `Model` arguments.

    Example:
        >>> model = token_seq2seq(50, 60, embedding_dim=8, units=8)
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
        encoder,
        target_vocabulary_size,
        embedding_dim=256,
        units=256,
        cell="lstm",
        bridge="dense",
        decoder_options=None,
        share_embeddings=False,
        init_scale=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            # Unbuilt: `build` builds it (after the embedding it may share).
            encoder = {key: v for key, v in encoder.items() if key != "build_config"}
            encoder = keras.saving.deserialize_keras_object(encoder)
        self.encoder = encoder
        self.target_vocabulary_size = target_vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.bridge = bridge
        self._decoder_options = dict(decoder_options or {})
        self.share_embeddings = share_embeddings
        self.init_scale = init_scale
        self.state_bridge = StateBridge(units, mode=bridge, name="bridge")
        self.decoder = AttentionDecoder(
            target_vocabulary_size,
            embedding_dim,
            units,
            cell=cell,
            name="decoder",
            **self._decoder_options,
        )
        if share_embeddings:
            if not hasattr(encoder, "share_embedding"):
                raise ValueError(
                    f"{type(encoder).__name__} reads no tokens, so it cannot share "
                    "the decoder's embedding; use share_embeddings=False"
                )
            encoder.share_embedding(self.decoder.embedding)

    @property
    def decoder_options(self) -> dict:
        return dict(self._decoder_options)

    def build(self, inputs_shape=None):
        if isinstance(inputs_shape, dict) and "source" in inputs_shape:
            source_shape = tuple(inputs_shape["source"])
        else:
            source_shape = tuple(self.encoder.source_shape)
        memory_shape, _, states_shape = self.encoder.compute_output_shape(source_shape)
        # The decoder first: it builds the embedding a sharing encoder reads with.
        self.decoder.build((None, None), (None, *memory_shape[1:]))
        self.encoder.build(source_shape)
        self.state_bridge.build([(None, *shape[1:]) for shape in states_shape])
        if self.init_scale > 0:
            uniform = keras.initializers.RandomUniform(
                -self.init_scale, self.init_scale
            )
            for weight in self.weights:
                if not weight.path.endswith("bias"):
                    weight.assign(uniform(weight.shape))
        self.built = True

    def _encode(self, source, training=None):
        memory, mask, states = self.encoder(source, training=training)
        return memory, mask, self.state_bridge(states)

    def call(self, inputs, training=None, return_attention=False):
        memory, mask, states = self._encode(inputs["source"], training)
        logits, weights = self.decoder(
            inputs["target_in"],
            memory,
            memory_mask=mask,
            initial_states=states,
            training=training,
        )
        if not return_attention:
            return logits
        return logits, {"weights": weights, "contexts": ops.matmul(weights, memory)}

    @one_row_if_empty
    def encode(self, source):
        """The decoding state after reading `source` (a batch the encoder takes).

        Returns:
            A dict `{"decoder", "memory", "memory_mask", "attention"}` whose
            tensors all have `batch` rows, for `decode_step`; "attention" is
            zeros `[batch, positions]`.
        """
        if not self.built:
            self.build()
        memory, mask, states = self._encode(source, training=False)
        return {
            "decoder": self.decoder.initial_step_state(states, ops.shape(memory)[0]),
            "memory": memory,
            "memory_mask": mask,
            "attention": ops.zeros(ops.shape(mask), memory.dtype),
        }

    def decode_step(self, tokens, state, step=None):
        """`step_fn` of `recurrent.decoding`: `[n]` tokens -> (`[n, vocab]`
        log-probs, state). `step` is not needed (the state counts positions);
        the new state's "attention" holds this step's weights `[n, positions]`."""
        return self._step(tokens, state)

    @one_row_if_empty
    def _step(self, tokens, state):
        logits, decoder_state, weights = self.decoder.step(
            tokens, state["decoder"], state["memory"], state["memory_mask"]
        )
        state = {**state, "decoder": decoder_state, "attention": weights}
        return ops.log_softmax(logits, axis=-1), state

    @one_row_if_empty
    def teacher_forced(self, source, target_in):
        """Log-probabilities `[batch, steps, vocab]` and attention weights
        `[batch, steps, positions]` of the decoder fed `target_in`, in
        inference mode.

        Fed a decoded sequence behind the start token, these are the scores
        and weights the decoder had while producing it. Weights are 0 on
        padding, so a row with no source has weights 0 everywhere.
        """
        logits, attention = self(
            {"source": source, "target_in": target_in},
            training=False,
            return_attention=True,
        )
        return ops.log_softmax(logits, axis=-1), attention["weights"]

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            target_vocabulary_size=self.target_vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            bridge=self.bridge,
            decoder_options=self.decoder_options,
            share_embeddings=self.share_embeddings,
            init_scale=self.init_scale,
        )
        return config


def token_seq2seq(
    source_vocabulary_size,
    target_vocabulary_size,
    embedding_dim=256,
    units=256,
    cell="lstm",
    encoder_layers=1,
    bidirectional=True,
    bridge="dense",
    decoder_options=None,
    dropout=0.0,
    share_embeddings=False,
    init_scale=0.1,
    **kwargs,
) -> Seq2Seq:
    """A text-to-text `Seq2Seq`: a `TokenEncoder` as wide as the decoder.

    `dropout` applies to the source embeddings and (unless `decoder_options`
    names its own) to the decoder's attentional vectors; `share_embeddings`
    needs `source_vocabulary_size == target_vocabulary_size`. Other arguments
    as `TokenEncoder` and `Seq2Seq`; `**kwargs` go to `Seq2Seq` (e.g. name).
    """
    encoder = TokenEncoder(
        source_vocabulary_size,
        embedding_dim=embedding_dim,
        units=units,
        cell=cell,
        num_layers=encoder_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        name="encoder",
    )
    return Seq2Seq(
        encoder,
        target_vocabulary_size,
        embedding_dim=embedding_dim,
        units=units,
        cell=cell,
        bridge=bridge,
        decoder_options={"dropout": dropout, **(decoder_options or {})},
        share_embeddings=share_embeddings,
        init_scale=init_scale,
        **kwargs,
    )
