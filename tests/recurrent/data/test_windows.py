import numpy as np
import pandas as pd
import pytest

from recurrent.data.windows import (
    TRAINING_GAP_ADVICE,
    Scaler,
    calendar_features,
    calendar_kind,
    chronological_split,
    fill_gaps,
    minimum_length,
    range_departure,
    regular_series,
    windows,
)
from recurrent.errors import UserInputError


def _frame(values):
    times = pd.date_range("2001-01-01", periods=len(values), freq="h").astype(str)
    return pd.DataFrame({"time": times, "value": values})


def test_short_gaps_are_interpolated_linearly():
    filled = fill_gaps(_frame([1.0, np.nan, np.nan, 4.0, 5.0]), ["value"], 2, "time")
    np.testing.assert_allclose(filled["value"], [1, 2, 3, 4, 5])


def test_a_long_gap_is_an_error_that_names_its_rows():
    frame = _frame([1.0, np.nan, np.nan, np.nan, 5.0])
    with pytest.raises(
        UserInputError,
        match=r"misses 3 values in a row \(2001-01-01 01:00:00 to 2001-01-01 03:00:00\)",
    ):
        fill_gaps(frame, ["value"], 2, "time")


def test_text_in_a_numeric_column_is_an_error():
    with pytest.raises(UserInputError, match="non-number at 2001-01-01 01:00:00"):
        fill_gaps(_frame([1.0, "n/a", 3.0]), ["value"], 2, "time")


@pytest.mark.parametrize(
    "value,problem",
    [
        (np.inf, "a non-finite value"),
        (-np.inf, "a non-finite value"),
        (float("1e309"), "a non-finite value"),
        ("inf", "a non-finite value"),
        (1e39, "a value beyond float32's range"),
        (-4e38, "a value beyond float32's range"),
    ],
    ids=["inf", "-inf", "1e309", "text inf", "1e39", "-4e38"],
)
def test_values_the_model_cannot_compute_with_are_refused_naming_column_and_row(
    value, problem
):
    with pytest.raises(
        UserInputError,
        match=rf"column 'value' holds {problem}.* at 2001-01-01 02:00:00 ",
    ):
        fill_gaps(_frame([1.0, 2.0, value, 4.0]), ["value"], 2, "time")


def test_the_largest_float32_values_are_accepted():
    top = float(np.finfo(np.float32).max)
    filled = fill_gaps(_frame([top, -top]), ["value"], 2, "time")
    assert np.isfinite(filled["value"]).all()


def test_a_long_gap_error_ends_with_the_advice_of_its_caller():
    frame = _frame([1.0, np.nan, np.nan, np.nan, 5.0])
    with pytest.raises(UserInputError, match=r"max_gap=2; raise --set max_gap$"):
        fill_gaps(frame, ["value"], 2, "time", gap_advice="raise --set max_gap")
    with pytest.raises(UserInputError, match=r"max_gap=2; fill them in recent.csv$"):
        fill_gaps(frame, ["value"], 2, "time", gap_advice="fill them in recent.csv")


def test_chronological_split_keeps_time_order_and_covers_every_row():
    frame = _frame(np.arange(100.0))
    splits = chronological_split(frame, validation=0.2, test=0.1)
    assert [len(part) for part in splits.values()] == [70, 20, 10]
    joined = pd.concat(splits.values())["value"].to_numpy()
    np.testing.assert_array_equal(joined, np.arange(100.0))


def test_scaler_uses_the_statistics_it_was_fitted_on():
    train = np.array([[0.0, 10.0], [2.0, 10.0]], "float32")
    scaler = Scaler.fit(train)
    np.testing.assert_allclose(scaler.transform(np.array([[1.0, 10.0]])), [[0.0, 0.0]])
    assert scaler.std[1] == 1.0  # a constant column is left unscaled, not divided by 0
    assert scaler.inverse(np.array([1.0]), 0)[0] == pytest.approx(2.0)


def test_minimum_length_is_where_every_part_starts_to_hold_enough_steps():
    def smallest_part(size, validation, test):
        splits = chronological_split(_frame(np.zeros(size)), validation, test)
        return min(len(frame) for frame in splits.values())

    for part, fractions in [(1, (0.15, 0.15)), (30, (0.15, 0.15)), (96, (0.1, 0.25))]:
        needed = minimum_length(part, *fractions)
        assert smallest_part(needed - 1, *fractions) < part
        assert all(
            smallest_part(size, *fractions) >= part
            for size in range(needed, 3 * needed)
        )


def test_scaler_fits_huge_values_without_overflow():
    values = np.array([[1e30], [2e30], [3e30]], "float32")
    scaler = Scaler.fit(values)
    assert scaler.std[0] == pytest.approx(np.std([1e30, 2e30, 3e30]), rel=1e-6)
    scaled = scaler.scale(_frame(values[:, 0]), ["value"], "time")
    np.testing.assert_allclose(scaled[:, 0], [-1.2247449, 0, 1.2247449], rtol=1e-6)


def test_scale_refuses_a_column_float32_cannot_standardise():
    frame = _frame([3e38, 3e38, -3e38])
    scaler = Scaler.fit(frame[["value"]].to_numpy("float32"))
    with pytest.raises(
        UserInputError,
        match=r"column 'value' holds -3e\+38 at 2001-01-01 02:00:00, too far from "
        "its training mean to standardise in float32",
    ):
        scaler.scale(frame, ["value"], "time")


def test_scale_refuses_values_beyond_the_bound_naming_their_row():
    scaler = Scaler.fit(np.array([[0.0], [2.0]], "float32"))
    frame = _frame([1.0, 101.0, 1e6, np.nan])
    scaled = scaler.scale(frame.iloc[:2], ["value"], "time", bound=100)
    np.testing.assert_allclose(scaled[:, 0], [0, 100])
    for row, shown in [(2, "1e\\+06"), (3, "nan")]:
        with pytest.raises(
            UserInputError, match=f"holds {shown} at 2001-01-01 0{row}:00:00"
        ):
            scaler.scale(frame.iloc[[0, row]], ["value"], "time", bound=100)


def test_windows_are_followed_directly_by_their_targets():
    values = np.arange(20.0)[:, None]
    x, y = windows(values, values[:, 0], lookback=4, horizon=3, stride=2)
    assert x.shape == (7, 4, 1) and y.shape == (7, 3)
    np.testing.assert_array_equal(x[1, :, 0], [2, 3, 4, 5])
    np.testing.assert_array_equal(y[1], [6, 7, 8])
    assert y[-1, -1] <= 19


def test_a_part_too_short_for_one_window_is_an_error():
    with pytest.raises(UserInputError, match="too short for lookback=8 plus horizon=4"):
        windows(np.zeros((10, 1)), np.zeros(10), lookback=8, horizon=4)


def test_calendar_features_are_on_the_unit_circle():
    features = calendar_features(pd.Series(["2001-01-01T06:00", "2001-07-02T18:00"]))
    np.testing.assert_allclose(
        features["hour_sin"] ** 2 + features["hour_cos"] ** 2, 1, atol=1e-6
    )
    np.testing.assert_allclose(
        features[["hour_sin", "hour_cos"]].iloc[0], [1, 0], atol=1e-6
    )


def test_regular_series_sorts_and_turns_absent_steps_into_gaps():
    frame = pd.DataFrame(
        {
            "time": ["2001-01-01 03:00", "2001-01-01 00:00", "2001-01-01 01:00"],
            "value": [3.0, 0.0, 1.0],
        }
    )
    series = regular_series(frame, "time")
    assert series["time"].dt.hour.tolist() == [0, 1, 2, 3]
    assert series["value"].isna().tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    "times,message",
    [
        (
            ["2001-01-01 00:00", "2001-01-01 00:00", "2001-01-01 01:00"],
            "repeats 2001-01-01 00:00:00; keep one row per time, or aggregate "
            "them with --set resample=RULE",
        ),
        (
            [
                f"2001-01-01 {hour}"
                for hour in ["00:00", "01:00", "02:00", "02:30", "03:00", "04:00"]
            ],
            "has 2001-01-01 02:30:00, off the regular step of 0 days 01:00:00; "
            "resample the series to one step with --set resample=RULE",
        ),
        (["2001-01-01 00:00", "yesterday-ish"], "holds 'yesterday-ish', not a time"),
    ],
)
def test_regular_series_refuses_times_it_cannot_place(times, message):
    frame = pd.DataFrame({"time": times, "value": range(len(times))})
    with pytest.raises(UserInputError, match=message):
        regular_series(frame, "time")


def test_a_long_gap_error_names_the_first_and_the_longest_gap():
    frame = _frame([1.0] * 20).assign(other=1.0)
    frame.loc[2:4, "other"] = np.nan  # first: 3 values
    frame.loc[8:14, "value"] = np.nan  # longest: 7 values, in the first column
    frame.loc[17:18, "value"] = np.nan  # short enough
    with pytest.raises(UserInputError) as raised:
        fill_gaps(frame, ["value", "other"], 2, "time")
    message = str(raised.value)
    assert message.startswith(
        "column 'other' misses 3 values in a row (2001-01-01 02:00:00 to "
        "2001-01-01 04:00:00), more than max_gap=2; the longest gap: column "
        "'value' misses 7 values in a row (2001-01-01 08:00:00 to 2001-01-01 14:00:00)"
    )
    assert "raise --set max_gap=7" in message
    assert "--set resample=RULE" in message
    assert TRAINING_GAP_ADVICE.startswith("fill them")


@pytest.mark.parametrize(
    "freq,kind",
    [("15min", "hour"), ("h", "hour"), ("D", "weekday"), ("W", "year"), ("MS", "year")],
)
def test_calendar_features_follow_the_step_and_are_never_constant(freq, kind):
    times = pd.Series(pd.date_range("2001-01-01", periods=120, freq=freq))
    assert calendar_kind(times.diff().iloc[1]) == kind
    features = calendar_features(times, kind)
    assert features.shape == (120, 2) and features.columns[0] == f"{kind}_sin"
    assert (features.std() > 0.3).all()
    np.testing.assert_allclose((features**2).sum(axis=1), 1, atol=1e-6)


def test_a_yearly_step_has_no_calendar_cycle():
    assert calendar_kind(pd.Timedelta(days=365)) is None


def test_resample_aggregates_repeated_and_irregular_times_to_a_regular_step():
    frame = pd.DataFrame(
        {
            "time": [
                "2001-01-01 00:10",
                "2001-01-01 00:10",
                "2001-01-01 00:50",
                "2001-01-01 01:20",
                "2001-01-01 03:05",
            ],
            "value": [1.0, 3.0, 5.0, 7.0, 9.0],
        }
    )
    with pytest.raises(UserInputError, match="repeats"):
        regular_series(frame, "time")
    hourly = regular_series(frame, "time", resample="1h")
    assert hourly["time"].dt.hour.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(hourly["value"], [3.0, 7.0, np.nan, 9.0])
    summed = regular_series(frame, "time", resample="1h", how="sum")
    np.testing.assert_allclose(summed["value"], [9.0, 7.0, np.nan, 9.0])


def test_resample_refuses_an_unknown_rule_and_text_values():
    frame = pd.DataFrame({"time": ["2001-01-01", "2001-01-02"], "value": [1, "x"]})
    with pytest.raises(UserInputError, match="resample takes a pandas offset"):
        regular_series(frame, "time", resample="fortnightly-ish")
    with pytest.raises(UserInputError, match="column 'value' holds a non-number"):
        regular_series(frame, "time", resample="1D")


def test_range_departure_reports_a_part_outside_the_widened_training_range():
    train = np.array([0.0, 10.0])
    assert range_departure(train, np.array([-0.5, 10.9]), 0.1) is None
    assert range_departure(train, np.array([5.0, 12.0]), 0.1) == (5.0, 12.0)
    assert range_departure(train, np.array([-3.0, 1.0]), 0.1) == (-3.0, 1.0)


@pytest.mark.parametrize(
    "freq,step", [("MS", "1MS"), ("QS-JAN", "3MS"), ("ME", "1ME"), ("QE", "3ME")]
)
def test_month_and_quarter_series_are_regular_despite_uneven_lengths(freq, step):
    times = pd.date_range("2001-01-01", periods=12, freq=freq)
    frame = pd.DataFrame({"time": times.astype(str), "value": np.arange(12.0)})
    frame = frame.drop(index=5)  # an absent step becomes a gap
    series = regular_series(frame, "time")
    expected = pd.date_range(times[0], times[-1], freq=step)
    assert series["time"].tolist() == expected.tolist()
    assert series["value"].isna().tolist() == [i == 5 for i in range(12)]
