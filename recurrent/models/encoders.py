"""Encoders for `Seq2Seq`: each reads a source into an attention memory.

The contract every encoder keeps, so `Seq2Seq` can take any of them (token
sequences here; an image encoder or a hierarchical encoder of sentences or
turns later):

- `call(source, training=None)` returns `(memory, memory_mask, states)`:
  `memory` `[batch, positions, width]` (what the decoder attends over),
  `memory_mask` boolean `[batch, positions]` (False on padding) and `states`, a
  list of `[batch, state_width]` tensors that a `StateBridge` turns into the
  decoder's initial states (as many as the decoder's cell carries: `[h, c]`
  for an LSTM, `[h]` otherwise). A source with nothing in it must still give
  at least one (masked) position, so the decoder reads a zero context.
- `compute_output_shape(source_shape)` gives the three shapes.
- `source_shape`: the shape of a batch of sources with unknown sizes as None
  (`(None, None)` for token ids), with which `Seq2Seq` builds it before any data
  is seen.
- Optionally `share_embedding(embedding)`: read tokens with the decoder's
  embedding layer (`Seq2Seq(share_embeddings=True)`).
- The usual layer conventions: constructor arguments in `get_config`,
  registered as serializable, so a `.keras` file restores it inside the model.

An empty batch needs no care here: `Seq2Seq` runs its encoder on one added
row when the batch is known to be empty.
"""

import keras
from keras import ops

from recurrent.layers.recurrent import RecurrentEncoder, state_count


def at_least_one_step(source):
    """`[batch, source]` ids with one padding column added when there are none.

    Recurrent layers cannot run zero steps. A padding column is masked
    everywhere, so the row reads as nothing: initial encoder states, a memory
    attended with weights 0 (`masked_softmax`), hence a zero context.
    """
    missing = ops.maximum(1 - ops.shape(source)[1], 0)
    return ops.pad(source, [[0, 0], [0, missing]])


@keras.saving.register_keras_serializable(package="recurrent")
class TokenEncoder(keras.layers.Layer):
    """Token ids -> embeddings -> (stacked, bidirectional) recurrent encoder.

    The memory is the top layer's output sequence, masked where the source is
    padding (id 0); the states are its final states. A bidirectional encoder
    gives each direction `units // 2`, so memory and states are `units` wide
    either way.

    Args:
        vocabulary_size: source ids, 0 being padding.
        embedding_dim: size of the token embeddings.
        units: width of the memory and of each state.
        cell: "simple", "lstm" or "gru".
        num_layers: stacked recurrent layers.
        bidirectional: read the source in both directions (`units` even).
        dropout: dropout on the embeddings.
        **kwargs: base `Layer` arguments.

    Call arguments:
        source: `[batch, source]` int ids; a source of no tokens (zero columns,
            or all padding) reads as nothing.
        training: Python boolean, enables dropout.

    Returns:
        `(memory, memory_mask, states)` as the module docstring says; memory
        has `max(source, 1)` positions.

    Example:
        >>> encoder = TokenEncoder(50, embedding_dim=8, units=8)
        >>> memory, mask, states = encoder(keras.ops.ones((2, 5), "int32"))
        >>> tuple(memory.shape), tuple(mask.shape), len(states)
        ((2, 5, 8), (2, 5), 2)
    """

    source_shape = (None, None)

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=256,
        units=256,
        cell="lstm",
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(
                f"a bidirectional encoder splits units between its directions; "
                f"units must be even, got {units}"
            )
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.drop = keras.layers.Dropout(dropout)
        self.recurrent = RecurrentEncoder(
            units // 2 if bidirectional else units,
            cell=cell,
            num_layers=num_layers,
            bidirectional=bidirectional,
            merge_mode="concat",
            name="recurrent",
        )

    def share_embedding(self, embedding: keras.layers.Embedding) -> None:
        """Reads tokens with `embedding` (e.g. the decoder's) instead of its own.

        Call it before the encoder is built; the two vocabularies and
        embedding sizes must match.
        """
        if self.built:
            raise ValueError("share_embedding must come before the encoder is built")
        if (embedding.input_dim, embedding.output_dim) != (
            self.vocabulary_size,
            self.embedding_dim,
        ):
            raise ValueError(
                "shared embeddings need one vocabulary and one embedding size: "
                f"the encoder has {self.vocabulary_size} x {self.embedding_dim}, "
                f"the embedding {embedding.input_dim} x {embedding.output_dim}"
            )
        self._tracker.untrack(self.embedding)
        self.embedding = embedding

    def build(self, source_shape=None):
        if not self.embedding.built:  # a shared one is built by its owner
            self.embedding.build((None, None))
        self.recurrent.build((None, None, self.embedding_dim))

    def call(self, source, training=None):
        source = at_least_one_step(ops.cast(source, "int32"))
        mask = ops.not_equal(source, 0)
        embedded = self.drop(self.embedding(source), training=training)
        memory, states = self.recurrent(embedded, mask=mask, training=training)
        return memory, mask, list(states)

    def compute_output_shape(self, source_shape):
        batch, steps = source_shape[0], source_shape[1]
        state = (batch, self.units)
        return (
            (batch, steps, self.units),
            (batch, steps),
            [state] * state_count(self.cell),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            cell=self.cell,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
        )
        return config
