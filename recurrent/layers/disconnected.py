"""Disconnected recurrent neural network: recurrence limited to a window."""

import keras
from keras import ops

from recurrent.layers.recurrent import get_rnn


@keras.saving.register_keras_serializable(package="recurrent")
class DisconnectedRNN(keras.layers.Layer):
    """DRNN: the state at each position is computed from the last `window` tokens.

    For every position t an RNN reads tokens t - window + 1 .. t from a zero
    state; its final state is the output at t. Information can flow only within
    the window, which gives the position invariance of a CNN with the order
    sensitivity of an RNN. All windows run as one batch through Keras' own
    recurrent layer.

    Masking: masked tokens inside a window are skipped (and so are the
    positions before the sequence start); the output carries the input mask and
    is zero at masked positions.

    Args:
        units: hidden size.
        window: number of tokens each state sees (k in the paper).
        cell: "simple", "lstm" or "gru" (the paper uses GRU).
        dropout: dropout on the RNN inputs.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`.
        training: Python boolean, enables dropout.

    Returns:
        Float tensor `[batch, time, units]`.

    Reference:
        Wang, "Disconnected Recurrent Neural Networks for Text Categorization",
        ACL 2018.
    """

    def __init__(self, units, window=8, cell="gru", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.units = units
        self.window = window
        self.cell = cell
        self.dropout = dropout
        self.supports_masking = True
        self.rnn = get_rnn(cell, units, dropout=dropout, name=cell)

    def build(self, input_shape):
        self.rnn.build((None, self.window, input_shape[-1]))

    def _windows(self, values):
        """Stacks the `window` values ending at each position: [b, t, ...] -> [b, t, k, ...]."""
        time = ops.shape(values)[1]
        padding = [[0, 0], [self.window - 1, 0]] + [[0, 0]] * (len(values.shape) - 2)
        padded = ops.pad(values, padding)
        return ops.stack(
            [padded[:, offset : offset + time] for offset in range(self.window)], axis=2
        )

    def call(self, inputs, mask=None, training=None):
        batch, time = ops.shape(inputs)[0], ops.shape(inputs)[1]
        if mask is None:
            mask = ops.ones((batch, time), dtype="bool")
        features = inputs.shape[-1]
        windows = ops.reshape(self._windows(inputs), (-1, self.window, features))
        window_mask = ops.reshape(self._windows(mask), (-1, self.window))
        states = self.rnn(windows, mask=window_mask, training=training)
        outputs = ops.reshape(states, (batch, time, self.units))
        return outputs * ops.cast(mask, outputs.dtype)[..., None]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, window=self.window, cell=self.cell, dropout=self.dropout
        )
        return config
