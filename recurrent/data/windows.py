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


TRAINING_GAP_ADVICE = "fill them, or raise --set max_gap"
FLOAT32_MAX = float(np.finfo(np.float32).max)


def fill_gaps(
    frame: pd.DataFrame,
    columns: Sequence[str],
    limit: int,
    label: str,
    gap_advice: str = TRAINING_GAP_ADVICE,
) -> pd.DataFrame:
    """Interpolates runs of at most `limit` missing values linearly in each column.

    Args:
        frame: the series, in time order.
        columns: numeric columns to fill.
        limit: longest run of missing values that is interpolated.
        label: column that names rows in the error (e.g. the time column).
        gap_advice: what the error on a longer gap tells the user to do
            (training can raise max_gap; predict can only fill the file).

    Raises:
        UserInputError: a longer gap, naming its rows; a non-numeric value; or
            a value that is not finite or beyond float32's range, naming its row.
    """
    filled = frame.copy()
    for column in columns:
        values = _numbers(frame, column, label)
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
                    f"more than max_gap={limit}; {gap_advice}"
                )
        filled[column] = values.interpolate(limit_direction="both").astype("float32")
    return filled


def _numbers(frame: pd.DataFrame, column: str, label: str) -> pd.Series:
    """A column as float64, missing values as NaN; refuses text, infinities and
    values float32 cannot hold (the model computes in float32)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    problems = {
        "a non-number": values.isna() & frame[column].notna(),
        "a non-finite value": np.isinf(values),
        f"a value beyond float32's range (±{FLOAT32_MAX:.4g})": values.abs()
        > FLOAT32_MAX,
    }
    for problem, bad in problems.items():
        if bad.any():
            where = bad.idxmax()
            raise UserInputError(
                f"column {column!r} holds {problem} at {frame.loc[where, label]} "
                f"({frame.loc[where, column]}); fix the value"
            )
    return values


def chronological_split(
    frame: pd.DataFrame, validation: float = 0.15, test: float = 0.15
) -> dict[str, pd.DataFrame]:
    """Cuts a time-ordered table into consecutive train, validation and test parts."""
    bounds = _split_bounds(len(frame), validation, test)
    return {
        split: frame.iloc[start:stop].reset_index(drop=True)
        for split, (start, stop) in bounds.items()
    }


def _split_bounds(
    size: int, validation: float, test: float
) -> dict[str, tuple[int, int]]:
    train_end = int(round(size * (1.0 - validation - test)))
    validation_end = int(round(size * (1.0 - test)))
    return {
        "train": (0, train_end),
        "validation": (train_end, validation_end),
        "test": (validation_end, size),
    }


def minimum_length(part: int, validation: float, test: float) -> int:
    """Fewest steps from which on every chronological split has `part` steps or more.

    Rounding makes part sizes step unevenly, so this searches down from a
    length that surely suffices rather than up to the first that happens to.
    """

    def enough(size: int) -> bool:
        bounds = _split_bounds(size, validation, test).values()
        return min(stop - start for start, stop in bounds) >= part

    smallest_fraction = min(validation, test, 1.0 - validation - test)
    size = int(np.ceil((part + 1) / smallest_fraction)) + 1
    while size > part and enough(size - 1):
        size -= 1
    return size


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
        """Mean and standard deviation of each column, computed in float64 (float32
        squares overflow for values of order 1e20 and more)."""
        wide = np.asarray(values, "float64")
        std = wide.std(axis=0).astype("float32")
        return cls(
            wide.mean(axis=0).astype("float32"),
            np.where(std > 0, std, 1.0).astype("float32"),
        )

    def transform(self, values):
        return (values - self.mean) / self.std

    def scale(
        self,
        frame: pd.DataFrame,
        columns: Sequence[str],
        label: str,
        bound: float = np.inf,
    ) -> np.ndarray:
        """`transform` of `frame[columns]` in float32, refusing wild values.

        Args:
            frame: rows to scale.
            columns: the fitted columns, in order.
            label: column that names rows in the error (e.g. the time column).
            bound: largest scaled magnitude accepted, in standard deviations.

        Raises:
            UserInputError: a scaled value that is not finite in float32 or
                beyond `bound`, naming its column and row.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = self.transform(frame[list(columns)].to_numpy("float32"))
        bad = ~(np.isfinite(scaled) & (np.abs(scaled) <= bound))
        if bad.any():
            row, index = np.argwhere(bad)[0]
            value, where = frame[columns[index]].iloc[row], frame[label].iloc[row]
            problem = (
                "too far from its training mean to standardise in float32"
                if not np.isfinite(scaled[row, index])
                else f"more than {bound:g} training standard deviations from its "
                f"training mean {self.mean[index]:.4g} (std {self.std[index]:.4g})"
            )
            raise UserInputError(
                f"column {columns[index]!r} holds {value:g} at {where}, {problem}; "
                "fix the value, or rescale the column"
            )
        return scaled

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
