"""Forecasting heads (point, Gaussian, quantile) and an autoregressive recurrent decoder.

A head maps features to the parameters of a forecast distribution at every lead
time, shaped `[batch, horizon, P]`: P = 1 for a point forecast, 2 for a
Gaussian (mean, standard deviation) and one per quantile for quantile
regression. `recurrent.losses.ForecastLoss` trains each of them.
"""

import keras
from keras import ops

from recurrent.choices import lookup
from recurrent.layers.recurrent import get_cell

DISTRIBUTIONS = ("point", "gaussian", "quantile")
MIN_SCALE = 1e-3


def parameter_count(distribution: str, quantiles) -> int:
    lookup(dict.fromkeys(DISTRIBUTIONS), distribution, "head")
    return {"point": 1, "gaussian": 2}.get(distribution, len(quantiles))


def point_index(distribution: str, quantiles) -> int:
    """Index of the point forecast among the parameters: mean, or the median-most quantile."""
    if distribution != "quantile":
        return 0
    return min(range(len(quantiles)), key=lambda i: abs(quantiles[i] - 0.5))


@keras.saving.register_keras_serializable(package="recurrent")
class ForecastHead(keras.layers.Layer):
    """Projects features to forecast parameters for every lead time.

    Gaussian scales pass through softplus (plus 1e-3) so they stay positive;
    quantiles are sorted so they never cross.

    Args:
        horizon: lead times forecast.
        distribution: "point", "gaussian" or "quantile".
        quantiles: increasing quantile levels, for the quantile head.
        per_step: inputs hold one feature vector per lead time.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `[batch, features]` (one vector for all lead times), or
            `[batch, horizon, features]` when `per_step`.

    Returns:
        Float tensor `[batch, horizon, P]`.

    Reference:
        Salinas et al., "DeepAR", 2020 (Gaussian likelihood); Wen et al., "A
        Multi-Horizon Quantile Recurrent Forecaster", 2017 (quantiles).
    """

    def __init__(
        self,
        horizon,
        distribution="gaussian",
        quantiles=(0.1, 0.5, 0.9),
        per_step=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.distribution = distribution
        self.quantiles = tuple(quantiles)
        self.per_step = per_step
        self.num_parameters = parameter_count(distribution, self.quantiles)
        units = self.num_parameters * (1 if per_step else horizon)
        self.projection = keras.layers.Dense(units, name="projection")

    def build(self, input_shape):
        self.projection.build(input_shape)

    def call(self, inputs):
        raw = ops.reshape(
            self.projection(inputs), (-1, self.horizon, self.num_parameters)
        )
        if self.distribution == "gaussian":
            scale = ops.softplus(raw[..., 1:]) + MIN_SCALE
            return ops.concatenate([raw[..., :1], scale], axis=-1)
        if self.distribution == "quantile":
            return ops.sort(raw, axis=-1)
        return raw

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.horizon, self.num_parameters)

    def get_config(self):
        config = super().get_config()
        config.update(
            horizon=self.horizon,
            distribution=self.distribution,
            quantiles=list(self.quantiles),
            per_step=self.per_step,
        )
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class AutoregressiveDecoder(keras.layers.Layer):
    """Recurrent decoder that feeds each step's point forecast into the next step.

    Starting from the encoder's final states and the last observed target
    value, one recurrent cell is stepped `horizon` times; after each step a
    `ForecastHead` gives that lead time's parameters, and their point forecast
    (mean or median) is the next step's input. Training and inference run the
    same loop, so there is no exposure bias.

    Args:
        units: state size; must equal the encoder's state width.
        horizon: lead times forecast.
        cell: "simple", "lstm" or "gru".
        distribution: "point", "gaussian" or "quantile".
        quantiles: quantile levels, for the quantile head.
        **kwargs: base `Layer` arguments.

    Call arguments:
        last_value: `[batch, 1]` last observed (scaled) target value.
        states: list of the encoder's final states, `[batch, units]` each.
        training: Python boolean.

    Returns:
        Float tensor `[batch, horizon, P]`, as `ForecastHead`.

    Reference:
        Sutskever et al., "Sequence to Sequence Learning with Neural Networks",
        2014; Salinas et al., "DeepAR", 2020.
    """

    def __init__(
        self,
        units,
        horizon,
        cell="lstm",
        distribution="gaussian",
        quantiles=(0.1, 0.5, 0.9),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.horizon = horizon
        self.cell = cell
        self.distribution = distribution
        self.quantiles = tuple(quantiles)
        self.step_cell = get_cell(cell, units, name=f"{cell}_cell")
        self.head = ForecastHead(1, distribution, self.quantiles, name="head")
        self._point = point_index(distribution, self.quantiles)

    def build(self, last_value_shape, states_shape=None):
        self.step_cell.build((last_value_shape[0], 1))
        self.head.build((last_value_shape[0], self.units))

    def call(self, last_value, states, training=None):
        states = list(states) if isinstance(states, list | tuple) else [states]
        value, steps = last_value, []
        for _ in range(self.horizon):
            output, states = self.step_cell(value, states, training=training)
            states = list(states) if isinstance(states, list | tuple) else [states]
            parameters = self.head(output)[:, 0]
            steps.append(parameters)
            value = parameters[:, self._point : self._point + 1]
        return ops.stack(steps, axis=1)

    def compute_output_shape(self, last_value_shape, states_shape=None):
        return (last_value_shape[0], self.horizon, self.head.num_parameters)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            horizon=self.horizon,
            cell=self.cell,
            distribution=self.distribution,
            quantiles=list(self.quantiles),
        )
        return config
