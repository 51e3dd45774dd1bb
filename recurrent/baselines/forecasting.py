"""Forecasting baselines: naive, seasonal naive and Holt-Winters, by rolling origin.

Each function forecasts `horizon` steps after every origin: an origin is the
index of the last observed value, and the forecast covers origin+1..origin+h.
"""

import dataclasses

import numpy as np


def naive(series, origins, horizon: int) -> np.ndarray:
    """The last observed value, repeated over the horizon."""
    series = np.asarray(series, dtype=float)
    return np.repeat(series[np.asarray(origins)][:, None], horizon, axis=1)


def seasonal_naive(series, origins, horizon: int, season: int) -> np.ndarray:
    """The value one season before each lead time (the last season, repeated)."""
    series = np.asarray(series, dtype=float)
    leads = np.arange(1, horizon + 1)
    back = season * np.ceil(leads / season).astype(int) - leads
    return series[np.asarray(origins)[:, None] - back[None, :]]


@dataclasses.dataclass(frozen=True)
class HoltWinters:
    """Additive Holt-Winters with a damped trend, fitted by statsmodels.

    The parameters are fitted once on the training series; forecasts from later
    origins run the same smoothing recursions over the data seen so far, as a
    forecaster deployed at the end of training would.

    Reference:
        Winters, "Forecasting sales by exponentially weighted moving averages",
        1960; Gardner and McKenzie, "Forecasting trends in time series", 1985.
    """

    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    seasons: tuple[float, ...]

    @classmethod
    def fit(cls, train, season: int) -> "HoltWinters":
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        model = ExponentialSmoothing(
            np.asarray(train, dtype=float),
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=season,
            initialization_method="estimated",
        )
        params = model.fit().params
        return cls(
            alpha=float(params["smoothing_level"]),
            beta=float(params["smoothing_trend"]),
            gamma=float(params["smoothing_seasonal"]),
            phi=float(params["damping_trend"]),
            level=float(params["initial_level"]),
            trend=float(params["initial_trend"]),
            seasons=tuple(float(s) for s in params["initial_seasons"]),
        )

    def forecast(self, series, origins, horizon: int) -> np.ndarray:
        """Forecasts after each origin of `series` (which starts where training did)."""
        series = np.asarray(series, dtype=float)
        origins = np.asarray(origins)
        season = len(self.seasons)
        damping = np.cumsum(self.phi ** np.arange(1, horizon + 1))
        seasonal = list(self.seasons)
        level, trend = self.level, self.trend
        wanted = {int(origin): row for row, origin in enumerate(origins)}
        forecasts = np.empty((len(origins), horizon))
        for t in range(int(origins.max()) + 1):
            last_season = seasonal[t]
            previous = level + self.phi * trend
            level = self.alpha * (series[t] - last_season) + (1 - self.alpha) * previous
            trend = (
                self.beta * (level - previous + self.phi * trend)
                + (1 - self.beta) * self.phi * trend
            )
            seasonal.append(
                self.gamma * (series[t] - previous) + (1 - self.gamma) * last_season
            )
            if t in wanted:
                future = [seasonal[t + 1 + (h % season)] for h in range(horizon)]
                forecasts[wanted[t]] = level + damping * trend + np.array(future)
        return forecasts
