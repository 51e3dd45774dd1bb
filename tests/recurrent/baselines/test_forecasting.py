import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from recurrent.baselines.forecasting import HoltWinters, naive, seasonal_naive

SERIES = np.arange(10.0)


def test_naive_repeats_the_last_observed_value():
    np.testing.assert_array_equal(naive(SERIES, [3, 5], 2), [[3, 3], [5, 5]])


def test_seasonal_naive_repeats_the_last_season():
    # season 3, origin 5: leads 1..4 take the values at 3, 4, 5, then 3 again
    np.testing.assert_array_equal(seasonal_naive(SERIES, [5], 4, 3), [[3, 4, 5, 3]])


def test_holt_winters_recursion_reproduces_statsmodels_forecast():
    rng = np.random.default_rng(0)
    hours = np.arange(24 * 40)
    series = (
        10
        + 5 * np.sin(2 * np.pi * hours / 24)
        + 0.01 * hours
        + rng.normal(0, 0.5, len(hours))
    )
    train = series[: 24 * 30]
    model = HoltWinters.fit(train, 24)
    fitted = ExponentialSmoothing(
        train,
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=24,
        initialization_method="estimated",
    ).fit()
    ours = model.forecast(series, [len(train) - 1], 24)[0]
    np.testing.assert_allclose(ours, fitted.forecast(24), atol=0.05)
    later = model.forecast(series, [len(train) + 100], 24)[0]
    truth = series[len(train) + 101 : len(train) + 125]
    assert (
        np.mean(np.abs(later - truth)) < 1.0
    )  # it keeps tracking after the fit period
