"""The recurrent forecaster: scaled windows in, forecast parameters out.

Many-to-one (a `RecurrentEncoder`, then a `ForecastHead` over all lead times)
or sequence-to-sequence (the encoder's states start an `AutoregressiveDecoder`).
Per-window normalisation (RevIN, Kim et al. 2022) and lag differencing (Box
and Jenkins 1970) transform the measured inputs and are undone on the outputs
inside the network, so the model forecasts in the window's own units.
"""

from collections.abc import Sequence

import keras

from recurrent.layers.forecast import AutoregressiveDecoder, ForecastHead
from recurrent.layers.recurrent import RecurrentEncoder
from recurrent.layers.reversible import (
    InstanceDenormalization,
    InstanceNormalization,
    LagDifference,
    LagIntegration,
)


def forecaster(
    lookback: int,
    features: int,
    horizon: int,
    *,
    model: str = "seq2seq",
    head: str = "gaussian",
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    cell: str = "lstm",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    measured: int = 1,
    normalize: str = "global",
    difference: int = 0,
) -> keras.Model:
    """`[batch, lookback, features]` -> `[batch, horizon, P]` parameters of
    `head` (point, Gaussian or quantile).

    The first `measured` features are measurements (the target first), the
    rest calendar inputs. `normalize="window"` standardises the measurements
    of each window by its own mean and spread; `difference` > 0 feeds their
    lag-`difference` differences and forecasts the change from the last value
    at that lag.
    """
    window = keras.Input((lookback, features), name="window")
    inputs = window
    if normalize == "window":
        inputs, location, spread = InstanceNormalization(measured)(inputs)
    history = inputs[..., 0]
    if difference:
        inputs = LagDifference(difference, measured)(inputs)
    encoder = RecurrentEncoder(
        units,
        cell=cell,
        num_layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
        return_sequences=False,
    )
    last, states = encoder(inputs)
    if model == "many_to_one":
        parameters = ForecastHead(horizon, head, quantiles)(last)
    else:
        last_target = inputs[:, -1, :1]  # the target is the first input column
        parameters = AutoregressiveDecoder(
            encoder.width, horizon, cell, head, quantiles
        )(last_target, states)
    if difference:
        parameters = LagIntegration(difference, horizon, head, quantiles)(
            parameters, history
        )
    if normalize == "window":
        parameters = InstanceDenormalization(head, quantiles)(
            parameters, location, spread
        )
    return keras.Model(window, parameters, name=f"forecaster_{model}")
