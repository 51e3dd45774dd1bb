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

from recurrent.layers.hierarchical import HierarchicalEncoder
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


@keras.saving.register_keras_serializable(package="recurrent")
class TurnEncoder(keras.layers.Layer):
    """A dialogue history of token ids, read turn by turn (HRED, Serban et al.
    2016) for `Seq2Seq`.

    The source is one row of ids per history, each turn starting with one of
    `marker_ids` (speaker markers: the turn's tokens follow their marker).
    A `HierarchicalEncoder` reads every turn on its own with a bidirectional
    recurrent encoder, pools it into a turn vector and runs a context
    recurrent encoder over the turn vectors. The memory the decoder attends
    over is the word states of every token, in the source's order (markers
    included), so attention weights line up with the source tokens; the
    states are the context encoder's final states. Tokens before the first
    marker form a turn of their own; turns past `max_turns` join the last.

    Args:
        vocabulary_size: ids, 0 being padding.
        embedding_dim: size of the token embeddings.
        units: width of the memory and the states (half per direction).
        marker_ids: the ids that start a turn.
        max_turns: the most turns a history holds.
        cell: "simple", "lstm" or "gru", at both levels.
        pooling: how a turn's word states become its vector ("mean", "max",
            "last", "attention").
        dropout: dropout on the embeddings and the turn vectors.
        **kwargs: base `Layer` arguments.

    Call arguments:
        source: `[batch, positions]` int ids.
        training: Python boolean, enables dropout.

    Returns:
        `(memory, memory_mask, states)` as the module docstring says.

    Example:
        >>> encoder = TurnEncoder(50, 8, 8, marker_ids=[2, 3], max_turns=3)
        >>> memory, mask, states = encoder(keras.ops.array([[2, 7, 8, 3, 9, 0]]))
        >>> tuple(memory.shape), len(states)
        ((1, 6, 8), 2)

    Reference:
        Serban et al., "Building End-To-End Dialogue Systems Using Generative
        Hierarchical Neural Network Models", AAAI 2016.
    """

    source_shape = (None, None)

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=256,
        units=256,
        marker_ids=(),
        max_turns=4,
        cell="lstm",
        pooling="mean",
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if units % 2:
            raise ValueError(f"units must be even (half per direction), got {units}")
        if not marker_ids:
            raise ValueError("marker_ids must name the ids that start a turn")
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.marker_ids = [int(marker) for marker in marker_ids]
        self.max_turns = int(max_turns)
        self.cell = cell
        self.pooling = pooling
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.drop = keras.layers.Dropout(dropout)
        self.hierarchical = HierarchicalEncoder(
            units // 2,
            cell=cell,
            bidirectional=True,
            pooling=pooling,
            dropout=dropout,
            name="hierarchical",
        )

    share_embedding = TokenEncoder.share_embedding

    def build(self, source_shape=None):
        if not self.embedding.built:
            self.embedding.build((None, None))
        self.hierarchical.build((None, None, None, self.embedding_dim))

    def turn_positions(self, source):
        """`(turn, offset)` `[batch, positions]`: the turn of each token and
        its place in it."""
        source = ops.cast(source, "int32")
        is_marker = ops.any(
            ops.expand_dims(source, -1) == ops.array(self.marker_ids, "int32"), -1
        )
        turn = ops.cumsum(ops.cast(is_marker, "int32"), axis=1)
        # Tokens before the first marker are turn 0; markers count from 1.
        starts_marked = ops.cast(is_marker[:, :1], "int32")
        turn = ops.clip(turn - starts_marked, 0, self.max_turns - 1)
        valid = ops.cast(source != 0, "int32")
        one_hot = ops.one_hot(turn, self.max_turns, dtype="int32") * valid[..., None]
        offset = ops.sum(ops.cumsum(one_hot, axis=1) * one_hot, axis=-1) - 1
        return turn, ops.maximum(offset, 0), one_hot

    def call(self, source, training=None):
        source = at_least_one_step(ops.cast(source, "int32"))
        mask = ops.not_equal(source, 0)
        embedded = self.drop(self.embedding(source), training=training)
        turn, offset, one_hot = self.turn_positions(source)
        # [batch, turns, words]: each turn's tokens, gathered from their
        # (contiguous) positions.
        lengths = ops.sum(one_hot, axis=1)
        starts = ops.cumsum(lengths, axis=1) - lengths
        words = ops.maximum(ops.max(lengths), 1)
        steps = ops.arange(words, dtype="int32")
        nested_mask = steps[None, None, :] < lengths[:, :, None]
        positions = ops.minimum(
            starts[:, :, None] + steps[None, None, :], ops.shape(source)[1] - 1
        )
        batch = ops.shape(source)[0]
        flat = ops.reshape(positions, (batch, -1))
        nested = ops.take_along_axis(embedded, flat[..., None], axis=1)
        nested = ops.reshape(nested, (batch, self.max_turns, words, self.embedding_dim))
        word_states, vectors = self.hierarchical.read_words(
            nested, nested_mask, training=training
        )
        _, states = self.hierarchical.read_sentences(
            vectors, nested_mask, training=training
        )
        # Back to the source's order: the state of each token in its turn.
        index = turn * words + offset
        word_states = ops.reshape(word_states, (batch, -1, self.units))
        memory = ops.take_along_axis(word_states, index[..., None], axis=1)
        memory = memory * ops.cast(mask, memory.dtype)[..., None]
        return memory, mask, states

    # Memory and states as wide as a TokenEncoder's, one position per token.
    compute_output_shape = TokenEncoder.compute_output_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            marker_ids=self.marker_ids,
            max_turns=self.max_turns,
            cell=self.cell,
            pooling=self.pooling,
            dropout=self.dropout,
        )
        return config
