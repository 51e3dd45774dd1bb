"""Mask-aware pooling of a sequence into one vector."""

import keras
from keras import ops

from recurrent.choices import lookup


def _float_mask(inputs, mask):
    if mask is None:
        return ops.ones(ops.shape(inputs)[:2], dtype=inputs.dtype)
    return ops.cast(mask, inputs.dtype)


def _max(inputs, mask):
    valid = _float_mask(inputs, mask)[..., None]
    lowest = ops.min(inputs) - 1.0
    pooled = ops.max(inputs * valid + lowest * (1.0 - valid), axis=1)
    any_valid = ops.max(valid, axis=1)
    return pooled * any_valid


def _mean(inputs, mask):
    valid = _float_mask(inputs, mask)[..., None]
    return ops.sum(inputs * valid, axis=1) / ops.maximum(ops.sum(valid, axis=1), 1.0)


def _last(inputs, mask):
    valid = _float_mask(inputs, mask)
    positions = ops.arange(ops.shape(inputs)[1], dtype="int32")[None, :]
    last = ops.max(ops.where(valid > 0, positions, 0), axis=1)
    picked = ops.take_along_axis(inputs, last[:, None, None], axis=1)[:, 0]
    return picked * ops.max(valid, axis=1, keepdims=True)


POOLS = {"max": _max, "mean": _mean, "last": _last}


@keras.saving.register_keras_serializable(package="recurrent")
class SequencePooling(keras.layers.Layer):
    """Pools `[batch, time, features]` into `[batch, features]`, ignoring padding.

    Args:
        mode: "max" (over valid steps), "mean" (over valid steps) or "last"
            (the last valid step).
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`; a row with no valid step
            pools to zeros.

    Returns:
        Float tensor `[batch, features]`.
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self._pool = lookup(POOLS, mode, "pooling")
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return self._pool(inputs, mask)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class AttentionPooling(keras.layers.Layer):
    """Attention pooling with a learned context vector.

    u_t = tanh(W h_t + b), a_t = softmax_t(u_t . u_w), output = sum_t a_t h_t,
    with the softmax taken over valid steps only.

    Args:
        units: size of the attention projection.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional boolean tensor `[batch, time]`.
        return_attention_scores: also return the weights `[batch, time]`.

    Returns:
        Float tensor `[batch, features]` (and the weights when asked).

    Reference:
        Yang et al., "Hierarchical Attention Networks for Document
        Classification", NAACL 2016.
    """

    def __init__(self, units=64, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(features, self.units), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(
            shape=(self.units,), initializer="zeros", name="bias"
        )
        self.context = self.add_weight(
            shape=(self.units,), initializer="glorot_uniform", name="context"
        )

    def call(self, inputs, mask=None, return_attention_scores=False):
        projected = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.matmul(projected, self.context)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            weights = weights * ops.cast(mask, weights.dtype)
        pooled = ops.sum(inputs * weights[..., None], axis=1)
        return (pooled, weights) if return_attention_scores else pooled

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config
