"""Convolutional front ends for recurrent models."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="recurrent")
class ConvFeatures(keras.layers.Layer):
    """Convolutional front end of C-LSTM: n-gram feature maps fed to an RNN.

    One 1-D convolution per kernel size slides over the embedded tokens; the
    feature maps are concatenated along the feature axis, so each position
    holds features of the n-gram window around it. Padding is "same", so the
    sequence keeps its length and its mask.

    Masking: masked positions are zeroed before the convolution (padding never
    leaks into a window's features) and the input mask is passed on unchanged.

    Args:
        filters: number of filters per kernel size.
        kernel_sizes: window lengths, e.g. `(3,)` or `(2, 3, 4)`.
        activation: activation of the feature maps.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`.

    Returns:
        Float tensor `[batch, time, filters * len(kernel_sizes)]`.

    Reference:
        Zhou et al., "A C-LSTM Neural Network for Text Classification", 2015.
    """

    def __init__(self, filters, kernel_sizes=(3,), activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_sizes = tuple(kernel_sizes)
        self.activation = activation
        self.supports_masking = True
        self.convolutions = [
            keras.layers.Conv1D(
                filters,
                size,
                padding="same",
                activation=activation,
                name=f"conv_{size}",
            )
            for size in self.kernel_sizes
        ]

    def build(self, input_shape):
        for convolution in self.convolutions:
            convolution.build(input_shape)

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = inputs * ops.cast(mask, inputs.dtype)[..., None]
        features = [convolution(inputs) for convolution in self.convolutions]
        return features[0] if len(features) == 1 else ops.concatenate(features, -1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters * len(self.kernel_sizes),)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_sizes=list(self.kernel_sizes),
            activation=self.activation,
        )
        return config
