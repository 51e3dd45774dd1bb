"""Forecast errors: MAE, RMSE, MASE, sMAPE, CRPS, pinball loss, interval coverage.

Arrays are `[windows, horizon]` in raw units; means run over every window and
lead time unless a function says otherwise.
"""

import math

import numpy as np
from scipy.special import erf

Z80 = 1.2815515655446004  # standard normal quantile of 0.9: the 80% central interval


def mae(actual, forecast) -> float:
    return float(np.mean(np.abs(actual - forecast)))


def mae_by_lead(actual, forecast) -> list[float]:
    """MAE at each lead time, averaged over windows."""
    return np.mean(np.abs(actual - forecast), axis=0).tolist()


def rmse(actual, forecast) -> float:
    return float(np.sqrt(np.mean(np.square(actual - forecast))))


def seasonal_scale(history, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast: the MASE denominator (Hyndman 2006)."""
    history = np.asarray(history, dtype=float)
    return float(np.mean(np.abs(history[season:] - history[:-season])))


def mase(actual, forecast, scale: float) -> float:
    return mae(actual, forecast) / scale


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent; pairs where both are 0 count as no error."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2 * np.abs(forecast - actual),
        denominator,
        out=np.zeros_like(denominator, float),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def crps_gaussian(actual, mean, scale) -> float:
    """Closed-form CRPS of N(mean, scale^2) (Gneiting and Raftery 2007)."""
    z = (actual - mean) / scale
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + erf(z / math.sqrt(2)))
    return float(
        np.mean(scale * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi)))
    )


def mean_pinball(actual, quantile_forecasts, quantiles) -> float:
    """Pinball loss averaged over windows, lead times and quantiles: `[..., Q]` forecasts."""
    error = actual[..., None] - quantile_forecasts
    levels = np.asarray(quantiles)
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


def coverage(actual, lower, upper) -> float:
    """Share of actual values inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def point_scores(actual, forecast, scale: float) -> dict[str, float | list[float]]:
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "mase": mase(actual, forecast, scale),
        "smape": smape(actual, forecast),
        "mae_by_lead": mae_by_lead(actual, forecast),
    }
