"""Recurrent building blocks: the cell factory and the stacked (bi)directional encoder.

The factory returns Keras' own `SimpleRNN`, `LSTM` and `GRU` layers (not a generic
`RNN(cell)`), so the fused cuDNN kernels stay eligible on GPU.
"""

import keras
from keras import ops

from recurrent.choices import lookup

CELLS = {
    "simple": (keras.layers.SimpleRNN, keras.layers.SimpleRNNCell),
    "lstm": (keras.layers.LSTM, keras.layers.LSTMCell),
    "gru": (keras.layers.GRU, keras.layers.GRUCell),
}
MERGE_MODES = {
    "concat": lambda a, b: ops.concatenate([a, b], axis=-1),
    "sum": lambda a, b: a + b,
    "ave": lambda a, b: (a + b) / 2,
    "mul": lambda a, b: a * b,
}


def get_rnn(cell: str, units: int, **kwargs) -> keras.layers.RNN:
    """Returns Keras' recurrent layer for `cell` ("simple", "lstm" or "gru").

    Args:
        cell: the cell type.
        units: size of the hidden state.
        **kwargs: passed to the layer (return_sequences, dropout, ...).
    """
    layer_class, _ = lookup(CELLS, cell, "cell")
    return layer_class(units, **kwargs)


def get_cell(cell: str, units: int, **kwargs) -> keras.layers.Layer:
    """Returns the single-step cell for `cell`, for loops that step it by hand."""
    _, cell_class = lookup(CELLS, cell, "cell")
    return cell_class(units, **kwargs)


def state_count(cell: str) -> int:
    """Number of state tensors the cell carries: 2 for LSTM (h, c), else 1."""
    lookup(CELLS, cell, "cell")
    return 2 if cell.lower() == "lstm" else 1


@keras.saving.register_keras_serializable(package="recurrent")
class RecurrentEncoder(keras.layers.Layer):
    """Stacked, optionally bidirectional recurrent encoder.

    Each layer is Keras' own `SimpleRNN`, `LSTM` or `GRU` (wrapped in
    `Bidirectional` when asked). The encoder returns the output sequence of the
    top layer and its final states. For a bidirectional encoder the forward and
    backward final states are merged with the same `merge_mode` as the outputs,
    so states and outputs have the same width.

    Masking: a mask on `inputs` (e.g. from `Embedding(mask_zero=True)`) is
    honoured by every layer: masked steps leave the state unchanged, so the
    final states are those after the last valid step (the first, for the
    backward direction). The output sequence carries the input mask.

    Args:
        units: hidden size of each direction of each layer.
        cell: "simple", "lstm" or "gru".
        num_layers: number of stacked layers.
        bidirectional: run each layer in both directions.
        merge_mode: how directions are combined: "concat", "sum", "ave", "mul".
        dropout: dropout on each layer's inputs.
        recurrent_dropout: dropout on the recurrent state.
        return_sequences: return the top layer's whole sequence; when False the
            first output is the top layer's last output (many-to-one).
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`.
        training: Python boolean, enables dropout.

    Returns:
        A tuple `(outputs, states)`: `outputs` is `[batch, time, width]` (or
        `[batch, width]` when `return_sequences=False`); `states` is a list of
        `[batch, width]` tensors (`[h, c]` for LSTM, `[h]` otherwise), where
        `width` is `2 * units` for bidirectional concat and `units` otherwise.

    Example:
        >>> encoder = RecurrentEncoder(32, cell="gru", bidirectional=True)
        >>> outputs, (h,) = encoder(keras.ops.ones((2, 5, 8)))
        >>> tuple(outputs.shape), tuple(h.shape)
        ((2, 5, 64), (2, 64))

    Reference:
        Schuster and Paliwal, "Bidirectional recurrent neural networks", 1997.
    """

    def __init__(
        self,
        units,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.cell = cell
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.merge_mode = merge_mode
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.return_sequences = return_sequences
        self._merge = lookup(MERGE_MODES, merge_mode, "merge mode")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.supports_masking = True
        self.rnns = []
        for index in range(num_layers):
            top = index == num_layers - 1
            rnn = get_rnn(
                cell,
                units,
                return_sequences=return_sequences or not top,
                return_state=True,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                name=f"{cell}_{index}",
            )
            if bidirectional:
                rnn = keras.layers.Bidirectional(
                    rnn, merge_mode=merge_mode, name=f"bidirectional_{index}"
                )
            self.rnns.append(rnn)

    @property
    def width(self) -> int:
        """Feature size of the outputs and of each state."""
        concat = self.bidirectional and self.merge_mode == "concat"
        return 2 * self.units if concat else self.units

    def build(self, input_shape):
        shape = tuple(input_shape)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = shape[:-1] + (self.width,)

    def call(self, inputs, mask=None, training=None):
        outputs = inputs
        for rnn in self.rnns:
            outputs, *states = rnn(outputs, mask=mask, training=training)
        if self.bidirectional:
            half = len(states) // 2
            states = [
                self._merge(forward, backward)
                for forward, backward in zip(states[:half], states[half:], strict=True)
            ]
        return outputs, list(states)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        state_shape = (batch, self.width)
        if self.return_sequences:
            output_shape = tuple(input_shape[:-1]) + (self.width,)
        else:
            output_shape = state_shape
        return output_shape, [state_shape] * state_count(self.cell)

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return output_mask, [None] * state_count(self.cell)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            cell=self.cell,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            merge_mode=self.merge_mode,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            return_sequences=self.return_sequences,
        )
        return config
