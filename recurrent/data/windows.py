"""Time-series preparation: gap filling, chronological splits, scaling, windows.

Scaling is fitted on the training part only, and windows never cross a split
boundary, so nothing from the validation or test period leaks into training.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from recurrent.errors import UserInputError


def regular_series(frame: pd.DataFrame, time_column: str) -> pd.DataFrame:
    """Parses the time column, sorts by it, and puts rows on a regular time grid.

    The step is the most common difference between consecutive times. Absent
    steps become rows of missing values (for `fill_gaps` to fill or refuse).

    Raises:
        UserInputError: a value that is not a time, a repeated time, or times
            off the regular step, each naming the value.
    """
    raw = frame[time_column]
    times = pd.to_datetime(raw, errors="coerce", format="mixed")
    if times.isna().any():
        bad = raw[times.isna()].iloc[0]
        raise UserInputError(
            f"{time_column!r} holds {bad!r}, not a time; fix it or name the time column "
            "with --set time_column=COL"
        )
    repeated = times[times.duplicated()]
    if not repeated.empty:
        raise UserInputError(
            f"{time_column!r} repeats {repeated.iloc[0]}; keep one row per time"
        )
    ordered = frame.assign(**{time_column: times}).sort_values(
        time_column, kind="stable"
    )
    if len(ordered) < 2:
        return ordered.reset_index(drop=True)
    step = ordered[time_column].diff().mode().iloc[0]
    grid = pd.date_range(
        ordered[time_column].iloc[0], ordered[time_column].iloc[-1], freq=step
    )
    off_grid = ~ordered[time_column].isin(grid)
    if off_grid.any():
        raise UserInputError(
            f"{time_column!r} has {ordered[time_column][off_grid].iloc[0]}, off the regular "
            f"step of {step}; resample the series to one step"
        )
    regular = ordered.set_index(time_column).reindex(grid).rename_axis(time_column)
    return regular.reset_index()


def fill_gaps(
    frame: pd.DataFrame, columns: Sequence[str], limit: int, label: str
) -> pd.DataFrame:
    """Interpolates runs of at most `limit` missing values linearly in each column.

    Args:
        frame: the series, in time order.
        columns: numeric columns to fill.
        limit: longest run of missing values that is interpolated.
        label: column that names rows in the error (e.g. the time column).

    Raises:
        UserInputError: a longer gap, naming its rows, or a non-numeric value.
    """
    filled = frame.copy()
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna()
        if bad.any():
            row = frame.loc[bad.idxmax(), label]
            raise UserInputError(
                f"column {column!r} holds a non-number at {row}; fix the value"
            )
        missing = values.isna()
        runs = (missing != missing.shift()).cumsum()[missing]
        for _, run in runs.groupby(runs):
            if len(run) > limit:
                first, last = (
                    frame.loc[run.index[0], label],
                    frame.loc[run.index[-1], label],
                )
                raise UserInputError(
                    f"column {column!r} misses {len(run)} values in a row ({first} to {last}), "
                    f"more than max_gap={limit}; fill them, or raise --set max_gap"
                )
        filled[column] = values.interpolate(limit_direction="both").astype("float32")
    return filled


def chronological_split(
    frame: pd.DataFrame, validation: float = 0.15, test: float = 0.15
) -> dict[str, pd.DataFrame]:
    """Cuts a time-ordered table into consecutive train, validation and test parts."""
    size = len(frame)
    train_end = int(round(size * (1.0 - validation - test)))
    validation_end = int(round(size * (1.0 - test)))
    bounds = {"train": (0, train_end), "validation": (train_end, validation_end)}
    bounds["test"] = (validation_end, size)
    return {
        split: frame.iloc[start:stop].reset_index(drop=True)
        for split, (start, stop) in bounds.items()
    }


def calendar_features(times: pd.Series) -> pd.DataFrame:
    """Hour of day as a point on the unit circle.

    Day of year is left out on purpose: with a year or less of history, a
    chronological test period holds days the model never saw, and a model
    that keys on the date extrapolates badly there.
    """
    hour = 2 * np.pi * pd.to_datetime(times).dt.hour.to_numpy() / 24
    return pd.DataFrame(
        {"hour_sin": np.sin(hour), "hour_cos": np.cos(hour)}, index=times.index
    ).astype("float32")


@dataclasses.dataclass(frozen=True)
class Scaler:
    """Per-column standardisation, fitted on the training part only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "Scaler":
        std = values.std(axis=0)
        return cls(
            values.mean(axis=0).astype("float32"),
            np.where(std > 0, std, 1.0).astype("float32"),
        )

    def transform(self, values):
        return (values - self.mean) / self.std

    def inverse(self, values, column: int):
        """Back to raw units for one column (e.g. the target)."""
        return values * self.std[column] + self.mean[column]


def windows(
    values: np.ndarray, target: np.ndarray, lookback: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Cuts a series into (past window, future target) pairs.

    Args:
        values: `[time, features]` inputs.
        target: `[time]` values to forecast.
        lookback: steps in each input window.
        horizon: steps forecast after each window.
        stride: steps between consecutive window starts.

    Returns:
        `x` of shape `[n, lookback, features]` and `y` of shape `[n, horizon]`,
        where `y[i]` follows `x[i]` directly.
    """
    count = (len(values) - lookback - horizon) // stride + 1
    if count < 1:
        raise UserInputError(
            f"a part of {len(values)} steps is too short for lookback={lookback} plus "
            f"horizon={horizon}; use more data or smaller windows"
        )
    starts = np.arange(count) * stride
    past = starts[:, None] + np.arange(lookback)[None, :]
    future = starts[:, None] + lookback + np.arange(horizon)[None, :]
    return values[past].astype("float32"), target[future].astype("float32")
