import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from recurrent.metrics import forecasting as scores


def test_point_errors_on_a_hand_example():
    actual, forecast = (
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        np.array([[2.0, 2.0], [3.0, 2.0]]),
    )
    assert scores.mae(actual, forecast) == pytest.approx(0.75)
    assert scores.rmse(actual, forecast) == pytest.approx(np.sqrt(5 / 4))
    assert scores.mae_by_lead(actual, forecast) == [0.5, 1.0]
    assert scores.smape(actual, forecast) == pytest.approx(
        100 * (2 / 3 + 0 + 0 + 4 / 6) / 4
    )
    assert scores.smape(np.zeros(3), np.zeros(3)) == 0.0


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    history = np.array([0.0, 1.0, 3.0, 1.0, 2.0])
    assert scores.seasonal_scale(history, 2) == pytest.approx((3 + 0 + 1) / 3)
    assert scores.mase(np.ones(2), np.zeros(2), scale=0.5) == pytest.approx(2.0)


def test_gaussian_crps_matches_its_integral_definition():
    actual, mean, scale = 1.3, 0.2, 0.7

    def squared_gap(x):
        return (norm.cdf(x, mean, scale) - float(x >= actual)) ** 2

    expected = quad(squared_gap, -10, actual)[0] + quad(squared_gap, actual, 10)[0]
    assert scores.crps_gaussian(np.array([actual]), mean, scale) == pytest.approx(
        expected, rel=1e-4
    )


def test_coverage_counts_values_inside_the_interval():
    actual = np.array([0.0, 1.0, 2.0, 3.0])
    assert scores.coverage(actual, np.full(4, 0.5), np.full(4, 2.0)) == 0.5
    assert pytest.approx(norm.ppf(0.9)) == scores.Z80
