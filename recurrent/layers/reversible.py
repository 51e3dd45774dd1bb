"""Per-window transforms a forecaster undoes on its outputs: instance
normalisation and lag differencing.

A window `[batch, lookback, features]` is transformed before the encoder, and
the forecast parameters `[batch, horizon, P]` (as `ForecastHead` gives them) are
mapped back with the same window's statistics or values, so the model as a
whole still takes windows and returns forecasts in the units it was given. The
loss is computed after the inverse, in those units.

Location parameters (a point forecast, a Gaussian mean, every quantile) are
shifted and scaled; a Gaussian standard deviation is only scaled.
"""

import keras
from keras import ops

from recurrent.layers.forecast import parameter_count

EPSILON = 1e-5


def _location_mask(distribution: str, quantiles) -> list[float]:
    """1 for each parameter that is a location (shifted), 0 for a scale."""
    count = parameter_count(distribution, quantiles)
    return [1.0, 0.0] if distribution == "gaussian" else [1.0] * count


@keras.saving.register_keras_serializable(package="recurrent")
class InstanceNormalization(keras.layers.Layer):
    """Standardises each window by its own mean and standard deviation over time.

    The first `columns` features are normalised; later ones (e.g. calendar
    inputs, already bounded) pass through. The statistics are returned so that
    `InstanceDenormalization` maps forecasts back: a window's level and scale
    no longer matter to the network, which is what lets a series that leaves
    its training range be forecast.

    Args:
        columns: leading features to normalise (the target is the first).
        epsilon: added to the variance, so a constant window divides by
            `sqrt(epsilon)` rather than zero.
        **kwargs: base `Layer` arguments.

    Call arguments:
        window: `[batch, lookback, features]`.

    Returns:
        `(normalised, location, spread)`: the window with its first `columns`
        features standardised, and their means and standard deviations,
        `[batch, 1, columns]` each. There is no mask: every step counts.

    Example:
        >>> normalise = InstanceNormalization(columns=1)
        >>> z, location, spread = normalise(keras.ops.ones((2, 5, 3)))

    Reference:
        Kim et al., "Reversible Instance Normalization for Accurate
        Time-Series Forecasting against Distribution Shift" (RevIN), ICLR 2022;
        Salinas et al., "DeepAR", 2020 (per-series scaling of inputs and outputs).
    """

    def __init__(self, columns, epsilon=EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.columns = columns
        self.epsilon = epsilon

    def call(self, window):
        measured = window[..., : self.columns]
        location = ops.mean(measured, axis=1, keepdims=True)
        spread = ops.sqrt(
            ops.var(measured, axis=1, keepdims=True) + ops.cast(self.epsilon, "float32")
        )
        normalised = (measured - location) / spread
        rest = window[..., self.columns :]
        return ops.concatenate([normalised, rest], axis=-1), location, spread

    def compute_output_shape(self, input_shape):
        statistics = (input_shape[0], 1, self.columns)
        return input_shape, statistics, statistics

    def get_config(self):
        config = super().get_config()
        config.update(columns=self.columns, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class InstanceDenormalization(keras.layers.Layer):
    """Maps forecast parameters back with their window's target statistics.

    Args:
        distribution: "point", "gaussian" or "quantile" (which parameters
            are locations).
        quantiles: quantile levels, for the quantile head.
        **kwargs: base `Layer` arguments.

    Call arguments:
        parameters: `[batch, horizon, P]` in normalised units.
        location, spread: `[batch, 1, 1]` (or `[batch, 1, columns]`: the first
            column, the target's, is used) from `InstanceNormalization`.

    Returns:
        `[batch, horizon, P]`: locations times spread plus location, scales
        times spread.

    Reference:
        Kim et al., "Reversible Instance Normalization for Accurate
        Time-Series Forecasting against Distribution Shift" (RevIN), ICLR 2022.
    """

    def __init__(self, distribution="gaussian", quantiles=(0.1, 0.5, 0.9), **kwargs):
        super().__init__(**kwargs)
        self.distribution = distribution
        self.quantiles = tuple(quantiles)
        self._mask = _location_mask(distribution, self.quantiles)

    def call(self, parameters, location, spread):
        mask = ops.convert_to_tensor(self._mask, dtype=parameters.dtype)
        return parameters * spread[..., :1] + location[..., :1] * mask

    def compute_output_shape(self, parameters_shape, *statistics_shapes):
        return parameters_shape

    def get_config(self):
        config = super().get_config()
        config.update(distribution=self.distribution, quantiles=list(self.quantiles))
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class LagDifference(keras.layers.Layer):
    """Differences the first `columns` features of a window at lag `lag`.

    Step t becomes `x[t] - x[t - lag]`; the first `lag` steps have no
    predecessor and are dropped, so the output is `lag` steps shorter. Later
    features (calendar inputs) are kept as they are at step t.

    Args:
        lag: steps between the values subtracted (1: first differences; the
            season: seasonal differences).
        columns: leading features to difference (the target is the first).
        **kwargs: base `Layer` arguments.

    Call arguments:
        window: `[batch, lookback, features]`, lookback > lag.

    Returns:
        `[batch, lookback - lag, features]`.

    Reference:
        Box and Jenkins, "Time Series Analysis: Forecasting and Control", 1970
        (differencing to remove trend and season).
    """

    def __init__(self, lag=1, columns=1, **kwargs):
        super().__init__(**kwargs)
        self.lag = lag
        self.columns = columns

    def call(self, window):
        measured = window[..., : self.columns]
        change = measured[:, self.lag :] - measured[:, : -self.lag]
        return ops.concatenate([change, window[:, self.lag :, self.columns :]], -1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] - self.lag
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        config = super().get_config()
        config.update(lag=self.lag, columns=self.columns)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class LagIntegration(keras.layers.Layer):
    """Adds forecast changes back to the last observed value at the same lag phase.

    With lag 1, lead h's location is the last observed value plus the forecast
    change; with lag s (a season), it is the value s, 2s, ... steps before the
    lead (the last season observed: seasonal naive) plus the forecast change.
    The network thus forecasts what naive (or seasonal naive) gets wrong.
    Scales are left as they are: they are the spread of the change, which is
    the spread of the value.

    Args:
        lag: the lag the inputs were differenced at.
        horizon: lead times forecast.
        distribution: "point", "gaussian" or "quantile".
        quantiles: quantile levels, for the quantile head.
        **kwargs: base `Layer` arguments.

    Call arguments:
        parameters: `[batch, horizon, P]` forecast changes.
        history: `[batch, lookback]` the target's observed values (lookback
            at least `lag`).

    Returns:
        `[batch, horizon, P]` forecasts of the values.

    Reference:
        Box and Jenkins, "Time Series Analysis: Forecasting and Control", 1970.
    """

    def __init__(
        self,
        lag=1,
        horizon=1,
        distribution="gaussian",
        quantiles=(0.1, 0.5, 0.9),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.lag = lag
        self.horizon = horizon
        self.distribution = distribution
        self.quantiles = tuple(quantiles)
        self._mask = _location_mask(distribution, self.quantiles)
        # Lead h (1-based) reuses the value lag * ceil(h / lag) steps before it.
        self._back = [
            self.lag * -(-lead // self.lag) - lead for lead in range(1, horizon + 1)
        ]

    def call(self, parameters, history):
        last = ops.shape(history)[1] - 1
        indices = ops.convert_to_tensor([last - back for back in self._back])
        base = ops.take(history, indices, axis=1)[..., None]
        mask = ops.convert_to_tensor(self._mask, dtype=parameters.dtype)
        return parameters + base * mask

    def compute_output_shape(self, parameters_shape, history_shape=None):
        return parameters_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            lag=self.lag,
            horizon=self.horizon,
            distribution=self.distribution,
            quantiles=list(self.quantiles),
        )
        return config
