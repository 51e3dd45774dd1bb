"""Losses: the forecast heads of `recurrent.layers.forecast`, masked binary
cross-entropy for per-sentence labels, and the negative log-likelihood of
log-probability outputs."""

import math

import keras
from keras import ops

from recurrent.layers.forecast import parameter_count


def gaussian_nll(y_true, mean, scale):
    """Negative log-likelihood of `y_true` under N(mean, scale^2), per element."""
    z = (y_true - mean) / scale
    return 0.5 * ops.square(z) + ops.log(scale) + 0.5 * math.log(2 * math.pi)


def pinball(y_true, predictions, quantiles):
    """Quantile (pinball) loss, per element and quantile: predictions `[..., Q]`."""
    levels = ops.convert_to_tensor(quantiles, dtype=predictions.dtype)
    error = ops.expand_dims(y_true, -1) - predictions
    return ops.maximum(levels * error, (levels - 1.0) * error)


@keras.saving.register_keras_serializable(package="recurrent")
class ForecastLoss(keras.losses.Loss):
    """Training loss of a forecast head: MSE, Gaussian NLL or mean pinball loss.

    Args:
        distribution: "point", "gaussian" or "quantile".
        quantiles: quantile levels, for the quantile head.

    Call arguments:
        y_true: `[batch, horizon]` targets.
        y_pred: `[batch, horizon, P]` parameters from the head.
    """

    def __init__(self, distribution="gaussian", quantiles=(0.1, 0.5, 0.9), **kwargs):
        kwargs.setdefault("name", f"{distribution}_loss")
        super().__init__(**kwargs)
        parameter_count(distribution, quantiles)  # validates the choice
        self.distribution = distribution
        self.quantiles = tuple(quantiles)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.distribution == "gaussian":
            return ops.mean(
                gaussian_nll(y_true, y_pred[..., 0], y_pred[..., 1]), axis=-1
            )
        if self.distribution == "quantile":
            return ops.mean(pinball(y_true, y_pred, self.quantiles), axis=(-2, -1))
        return ops.mean(ops.square(y_true - y_pred[..., 0]), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(distribution=self.distribution, quantiles=list(self.quantiles))
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class MaskedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy from logits over the labelled positions only.

    Targets below 0 (the padding of `recurrent.data.hierarchical`) are left
    out; each example's loss is the mean over its labelled positions.

    Call arguments:
        y_true: `[batch, positions]` targets in {0, 1}, or -1 for padding.
        y_pred: `[batch, positions]` logits.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("name", "masked_binary_crossentropy")
        super().__init__(**kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        valid = ops.cast(y_true >= 0, y_pred.dtype)
        target = ops.maximum(y_true, 0.0)
        logits = ops.where(valid > 0, y_pred, ops.zeros_like(y_pred))
        losses = (
            ops.maximum(logits, 0.0)
            - logits * target
            + ops.log1p(ops.exp(-ops.abs(logits)))
        )
        return ops.sum(losses * valid, axis=-1) / ops.maximum(
            ops.sum(valid, axis=-1), 1.0
        )


@keras.saving.register_keras_serializable(package="recurrent")
class SparseNegativeLogLikelihood(keras.losses.Loss):
    """-log P(target) from log-probabilities `[..., classes]` and int targets `[...]`.

    For outputs that are log-probabilities already, such as a copy layer's
    distribution over an extended vocabulary (`recurrent.layers.copy`), whose
    width varies by batch, or a sub-distribution that must not be
    renormalised (`SwitchingPointer`). Padding is left to sample weights.
    """

    def __init__(self, name="sparse_negative_log_likelihood", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        picked = ops.take_along_axis(
            y_pred, ops.cast(y_true, "int32")[..., None], axis=-1
        )
        return -picked[..., 0]
