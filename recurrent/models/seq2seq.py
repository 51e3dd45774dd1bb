"""An encoder-decoder with attention over any encoder's memory, ready for the decoders."""

import functools

import keras
from keras import ops

from recurrent.choices import lookup
from recurrent.layers.attention import doubly_stochastic_penalty
from recurrent.layers.copy import OUTPUT_LAYERS, coverage_loss, decoder_input_ids
from recurrent.layers.decoder import AttentionDecoder, StateBridge
from recurrent.layers.latent import GaussianLatent
from recurrent.models.encoders import TokenEncoder

OUTPUT_MODES = ("vocabulary", *OUTPUT_LAYERS)


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

    Output modes: "vocabulary" gives logits over the target vocabulary;
    "pointer" (See et al. 2017, `PointerGenerator`) and "switch" (Nallapati
    et al. 2016, `SwitchingPointer`) give log-probabilities over the extended
    vocabulary (V + the batch's out-of-vocabulary source words), and need
    `"source_extended"` `[batch, positions]` among the inputs (from
    `recurrent.layers.copy.extended_source_ids`; `encode` takes it as its
    second argument). Those modes share one vocabulary between source and
    target. With a decoder built with `coverage=True`, the coverage loss
    (See et al. 2017, eq. 12) is tracked as the metric "coverage" and, times
    `coverage_weight` (lambda), added to the validation loss always and to
    the training loss while the variable `coverage_active` is 1: See et al.
    train without it first and switch it on for the last steps, and the
    validation loss stays the objective of the finished model (eq. 13)
    throughout, so epochs before and after the switch compare. With
    `latent_dim`, a
    `GaussianLatent` sits between the encoder's states and the bridge
    (a VAE-style summarizer; its KL is the metric "kl"). With
    `attention_regularization` (lambda), the doubly stochastic attention
    penalty of Show, Attend and Tell (`doubly_stochastic_penalty`) is added
    to the loss and tracked as the metric "attention_penalty".

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
        output_mode: "vocabulary", "pointer" or "switch" (see above).
        coverage_weight: lambda, the weight of the coverage loss.
        coverage_active: whether training adds the coverage loss from the
            start (the starting value of the variable `coverage_active`).
        latent_dim: size of the Gaussian latent vector (0: none).
        latent_options: further `GaussianLatent` arguments (anneal_steps,
            free_bits).
        attention_regularization: lambda, the weight of the doubly
            stochastic attention penalty (0: none; needs attention).
        init_scale: every weight but the biases starts uniform in
            [-init_scale, init_scale], as in Luong et al.; 0 keeps Keras'
            initialisers. Keras' small defaults (embeddings within 0.05, Glorot
            over a 10,000-word softmax) leave the decoder predicting the most
            frequent word for hundreds of steps; 0.1 escapes that plateau at once.
            An encoder with `own_initialisers = True` (e.g. an `ImageEncoder`,
            whose batch normalisation and loaded weights must stay as they
            are) keeps its own.
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
        output_mode="vocabulary",
        coverage_weight=1.0,
        coverage_active=True,
        latent_dim=0,
        latent_options=None,
        attention_regularization=0.0,
        init_scale=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        lookup(dict.fromkeys(OUTPUT_MODES), output_mode, "output mode")
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
        self.output_mode = str(output_mode).lower()
        self.coverage_weight = float(coverage_weight)
        self.initially_active = bool(coverage_active)
        self.latent_dim = latent_dim
        self._latent_options = dict(latent_options or {})
        self.attention_regularization = float(attention_regularization)
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
        layer = OUTPUT_LAYERS.get(self.output_mode)
        self.copier = layer(name=self.output_mode) if layer else None
        self.latent = (
            GaussianLatent(latent_dim, name="latent", **self._latent_options)
            if latent_dim
            else None
        )
        self.coverage_active = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(float(self.initially_active)),
            trainable=False,
            name="coverage_active",
        )
        self.coverage_tracker = (
            keras.metrics.Mean("coverage") if self.decoder.coverage else None
        )
        if self.attention_regularization and self.decoder.attend is None:
            raise ValueError(
                "attention_regularization acts on the attention weights; use an "
                "attention other than 'none' or attention_regularization=0"
            )
        self.penalty_tracker = (
            keras.metrics.Mean("attention_penalty")
            if self.attention_regularization
            else None
        )

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
        states_shape = [(None, *shape[1:]) for shape in states_shape]
        if self.latent is not None:
            self.latent.build(states_shape)
        self.state_bridge.build(states_shape)
        if self.copier is not None:
            steps = (None, None)
            self.copier.build(
                steps + (self.target_vocabulary_size,),
                steps + (memory_shape[1],),
                steps + (memory_shape[-1],),
                steps + (self.units,),
                steps + (self.embedding_dim,),
            )
        if self.init_scale > 0:
            uniform = keras.initializers.RandomUniform(
                -self.init_scale, self.init_scale
            )
            kept = (
                {id(weight) for weight in self.encoder.weights}
                if getattr(self.encoder, "own_initialisers", False)
                else set()
            )
            for weight in self.trainable_weights:
                if not weight.path.endswith("bias") and id(weight) not in kept:
                    weight.assign(uniform(weight.shape))
        self.built = True

    @property
    def copies(self) -> bool:
        """Whether the output copies source words (needs "source_extended")."""
        return self.copier is not None

    def _encode(self, source, training=None):
        memory, mask, states = self.encoder(source, training=training)
        if self.latent is not None:
            states = self.latent(states, training=training)
        return memory, mask, self.state_bridge(states)

    def _embedded(self, tokens):
        """Decoder input embeddings of tokens (extended ids read as unknown)."""
        tokens = decoder_input_ids(
            ops.cast(tokens, "int32"), self.target_vocabulary_size
        )
        return ops.take(self.decoder.embedding.embeddings, tokens, axis=0)

    def call(self, inputs, training=None, return_attention=False):
        memory, mask, states = self._encode(inputs["source"], training)
        target_in = inputs["target_in"]
        if self.copier is not None:  # the decoder reads a copied word as unknown
            vocabulary = self.target_vocabulary_size
            target_in = decoder_input_ids(ops.cast(target_in, "int32"), vocabulary)
        details = self.decoder(
            target_in,
            memory,
            memory_mask=mask,
            initial_states=states,
            training=training,
            return_details=True,
        )
        weights = details["weights"]
        if self.coverage_tracker is not None:
            valid = ops.not_equal(target_in, 0)
            loss = coverage_loss(weights, details["coverage"], valid)
            self.coverage_tracker.update_state(loss)
            weight = self.coverage_weight
            if training:
                weight = ops.cast(self.coverage_active, loss.dtype) * weight
            self.add_loss(weight * loss)
        if self.penalty_tracker is not None:
            penalty = doubly_stochastic_penalty(
                weights, ops.not_equal(target_in, 0), mask
            )
            self.penalty_tracker.update_state(penalty)
            self.add_loss(self.attention_regularization * penalty)
        attention = {"weights": weights, "contexts": ops.matmul(weights, memory)}
        outputs = details["logits"]
        if self.copier is not None:
            if "source_extended" not in inputs:
                raise ValueError(
                    f"output_mode={self.output_mode!r} copies source words: pass "
                    "'source_extended' (extended_source_ids) with the inputs"
                )
            outputs, attention["p_gen"] = self.copier(
                outputs,
                weights,
                details["contexts"],
                details["attentional"],
                self._embedded(target_in),
                inputs["source_extended"],
                log_probabilities=True,
                return_switch=True,
            )
        if not return_attention:
            return outputs
        return outputs, attention

    def encode(self, source, source_extended=None):
        """The decoding state after reading `source` (a batch the encoder takes).

        Args:
            source: the encoder's input.
            source_extended: int `[batch, positions]` extended ids of the
                source; required by a copying output mode.

        Returns:
            A dict `{"decoder", "memory", "memory_mask", "attention"}` (and
            "source_extended" and "p_gen" when copying) whose tensors all
            have `batch` rows, for `decode_step`; "attention" is zeros
            `[batch, positions]`.
        """
        if self.copier is None:
            return self._start(source)
        if source_extended is None:
            raise ValueError(
                f"output_mode={self.output_mode!r} copies source words: pass "
                "source_extended (extended_source_ids) to encode"
            )
        return self._start_copying(source, source_extended)

    @one_row_if_empty
    def _start(self, source):
        if not self.built:
            self.build()
        memory, mask, states = self._encode(source, training=False)
        return {
            "decoder": self.decoder.initial_step_state(
                states, ops.shape(memory)[0], ops.shape(memory)[1]
            ),
            "memory": memory,
            "memory_mask": mask,
            "attention": ops.zeros(ops.shape(mask), memory.dtype),
        }

    @one_row_if_empty
    def _start_copying(self, source, source_extended):
        state = self._start.__wrapped__(self, source)
        # Extended ids line up with the memory's positions (one padding
        # column more for a source of no tokens).
        positions = ops.shape(state["memory_mask"])[1]
        extended = ops.cast(source_extended, "int32")
        missing = ops.maximum(positions - ops.shape(extended)[1], 0)
        extended = ops.pad(extended, [[0, 0], [0, missing]])[:, :positions]
        batch = ops.shape(extended)[0]
        return {**state, "source_extended": extended, "p_gen": ops.ones((batch,))}

    def decode_step(self, tokens, state, step=None):
        """`step_fn` of `recurrent.decoding`: `[n]` tokens -> (`[n, vocab]`
        log-probs, state). `step` is not needed (the state counts positions);
        the new state's "attention" holds this step's weights `[n, positions]`."""
        return self._step(tokens, state)

    @one_row_if_empty
    def _step(self, tokens, state):
        tokens = decoder_input_ids(
            ops.cast(tokens, "int32"), self.target_vocabulary_size
        )
        memory, mask = state["memory"], state["memory_mask"]
        if self.copier is None:
            logits, decoder_state, weights = self.decoder.step(
                tokens, state["decoder"], memory, mask
            )
            state = {**state, "decoder": decoder_state, "attention": weights}
            return ops.log_softmax(logits, axis=-1), state
        details, decoder_state, weights = self.decoder.step(
            tokens, state["decoder"], memory, mask, return_details=True
        )
        hard = {"hard": True} if self.output_mode == "switch" else {}
        log_probs, p_gen = self.copier(
            details["logits"],
            weights,
            details["contexts"],
            details["attentional"],
            details["inputs"],
            state["source_extended"],
            log_probabilities=True,
            return_switch=True,
            **hard,
        )
        state = {**state, "decoder": decoder_state, "attention": weights}
        return log_probs, {**state, "p_gen": p_gen}

    def teacher_forced(self, source, target_in, source_extended=None):
        """Log-probabilities `[batch, steps, vocab]` and attention weights
        `[batch, steps, positions]` of the decoder fed `target_in`, in
        inference mode (a copying model also needs `source_extended`, and its
        vocabulary is the extended one).

        Fed a decoded sequence behind the start token, these are the scores
        and weights the decoder had while producing it. Weights are 0 on
        padding, so a row with no source has weights 0 everywhere.
        """
        log_probs, attention = self.teacher_forced_details(
            source, target_in, source_extended
        )
        return log_probs, attention["weights"]

    def teacher_forced_details(self, source, target_in, source_extended=None):
        """`teacher_forced`'s log-probabilities and a dict of "weights" and,
        when copying, "p_gen" `[batch, steps]` (the generation probability,
        or the switch's probability of generating)."""
        if self.copier is None:
            return self._forced(source, target_in)
        return self._forced_copying(source, target_in, source_extended)

    @one_row_if_empty
    def _forced(self, source, target_in):
        logits, attention = self(
            {"source": source, "target_in": target_in},
            training=False,
            return_attention=True,
        )
        return ops.log_softmax(logits, axis=-1), {"weights": attention["weights"]}

    @one_row_if_empty
    def _forced_copying(self, source, target_in, source_extended):
        inputs = {
            "source": source,
            "target_in": target_in,
            "source_extended": source_extended,
        }
        log_probs, attention = self(inputs, training=False, return_attention=True)
        return log_probs, {"weights": attention["weights"], "p_gen": attention["p_gen"]}

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
            output_mode=self.output_mode,
            coverage_weight=self.coverage_weight,
            coverage_active=self.initially_active,
            latent_dim=self.latent_dim,
            latent_options=dict(self._latent_options),
            attention_regularization=self.attention_regularization,
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
