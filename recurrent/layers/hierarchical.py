"""A hierarchical encoder: words -> sentence vectors -> sentence-level states.

A word-level recurrent encoder reads each sentence (or each turn of a
dialogue) and pools its states into a sentence vector; a sentence-level
recurrent encoder reads the sentence vectors in order.

References:
    Nallapati et al., "SummaRuNNer: A Recurrent Neural Network based Sequence
    Model for Extractive Summarization of Documents", AAAI 2017.
    Yang et al., "Hierarchical Attention Networks for Document
    Classification", NAACL 2016.
    Serban et al., "Building End-To-End Dialogue Systems Using Generative
    Hierarchical Neural Network Models", AAAI 2016 (HRED).
"""

import keras
from keras import ops

from recurrent.layers.pooling import AttentionPooling, SequencePooling
from recurrent.layers.recurrent import RecurrentEncoder

POOLINGS = ("mean", "max", "last", "attention")


@keras.saving.register_keras_serializable(package="recurrent")
class HierarchicalEncoder(keras.layers.Layer):
    """Encodes `[batch, sentences, words, features]` into one state per sentence.

    Args:
        units: hidden size of each direction, at both levels.
        cell: "simple", "lstm" or "gru".
        bidirectional: read in both directions, at both levels.
        pooling: how a sentence's word states become its vector: "mean",
            "max", "last" or "attention" (over valid words).
        dropout: dropout on the sentence vectors.
        word_means: append each sentence's mean input word vector (its bag
            of words) to its pooled vector, so the sentence-level encoder
            also sees which words a sentence holds, not only what the
            word-level encoder kept of them.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, sentences, words, features]` (embedded words).
        mask: optional boolean `[batch, sentences, words]`; a sentence with no
            valid word is padding.
        training: Python boolean, enables dropout.

    Returns:
        A tuple `(states, document)`: `states` `[batch, sentences, width]`, the
        sentence-level encoder's output per sentence (masked like the
        sentences), and `document` `[batch, width]`, its final state. `width`
        is `2 * units` when bidirectional, else `units`.
    """

    def __init__(
        self,
        units,
        cell="gru",
        bidirectional=True,
        pooling="mean",
        dropout=0.0,
        word_means=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.word_means = word_means
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.units = units
        self.cell = cell
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.dropout = dropout
        self.supports_masking = True
        self.word_encoder = RecurrentEncoder(
            units, cell=cell, bidirectional=bidirectional, name="word_encoder"
        )
        self.pool = (
            AttentionPooling(units, name="word_pooling")
            if pooling == "attention"
            else SequencePooling(pooling, name="word_pooling")
        )
        self.word_mean = SequencePooling("mean", name="word_mean")
        self.sentence_dropout = keras.layers.Dropout(dropout)
        self.sentence_encoder = RecurrentEncoder(
            units, cell=cell, bidirectional=bidirectional, name="sentence_encoder"
        )

    @property
    def width(self) -> int:
        return self.sentence_encoder.width

    def build(self, input_shape):
        features = input_shape[-1]
        self.word_encoder.build((None, None, features))
        self.pool.build((None, None, self.word_encoder.width))
        width = self.word_encoder.width + (features if self.word_means else 0)
        self.sentence_encoder.build((None, None, width))

    def call(self, inputs, mask=None, training=None):
        if mask is None:
            shape = ops.shape(inputs)
            mask = ops.ones(shape[:3], dtype="bool")
        _, vectors = self.read_words(inputs, mask, training=training)
        states, final = self.read_sentences(vectors, mask, training=training)
        return states, final[0]

    def read_words(self, inputs, mask, training=None):
        """The word level: `(word_states [batch, sentences, words, width],
        vectors [batch, sentences, vector width])`, each sentence read on its
        own and pooled (with its mean word vector if `word_means`)."""
        shape = ops.shape(inputs)
        batch, sentences, words = shape[0], shape[1], shape[2]
        flat = ops.reshape(inputs, (-1, words, inputs.shape[-1]))
        flat_mask = ops.reshape(mask, (-1, words))
        word_states, _ = self.word_encoder(flat, mask=flat_mask, training=training)
        vectors = self.pool(word_states, mask=flat_mask)
        if self.word_means:
            vectors = ops.concatenate(
                [vectors, self.word_mean(flat, mask=flat_mask)], axis=-1
            )
        vectors = ops.reshape(vectors, (batch, sentences, vectors.shape[-1]))
        word_states = ops.reshape(
            word_states, (batch, sentences, words, word_states.shape[-1])
        )
        return word_states, vectors

    def read_sentences(self, vectors, mask, training=None):
        """The sentence level over `read_words`' vectors: `(states [batch,
        sentences, width], final states)`, the final states a list (`[h, c]`
        for an LSTM, `[h]` otherwise); `mask` is the words' mask."""
        vectors = self.sentence_dropout(vectors, training=training)
        sentence_mask = ops.any(mask, axis=-1)
        states, final = self.sentence_encoder(
            vectors, mask=sentence_mask, training=training
        )
        return states, list(final)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.width), (input_shape[0], self.width)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None, None
        return ops.any(mask, axis=-1), None

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            cell=self.cell,
            bidirectional=self.bidirectional,
            pooling=self.pooling,
            dropout=self.dropout,
            word_means=self.word_means,
        )
        return config
