"""Time-series preparation: regular steps, gap filling, chronological splits,
scaling, calendar inputs, windows.

Scaling is fitted on the training part only, and windows never cross a split
boundary, so nothing from the validation or test period leaks into training.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from recurrent.choices import lookup
from recurrent.errors import UserInputError

RESAMPLE_OFF = ("", "off", "none")
AGGREGATIONS = ("mean", "median", "sum", "min", "max", "first", "last")
RESAMPLE_HINT = "--set resample=RULE (a pandas offset such as 1h, 1D or W)"


def resample_rule(rule: str) -> str | None:
    """The pandas offset of a `resample` setting, or None when it is off.

    Raises:
        UserInputError: a rule pandas does not know, naming examples.
    """
    if rule.strip().lower() in RESAMPLE_OFF:
        return None
    try:
        pd.tseries.frequencies.to_offset(rule.strip())
    except ValueError:
        raise UserInputError(
            f"resample takes a pandas offset such as 1h, 1D, W or MS (or off), "
            f"got {rule!r}"
        ) from None
    return rule.strip()


def regular_series(
    frame: pd.DataFrame,
    time_column: str,
    resample: str = "off",
    how: str = "mean",
) -> pd.DataFrame:
    """Parses the time column, sorts by it, and puts rows on a regular time grid.

    Without `resample`, the step is the most common difference between
    consecutive times and the rows must already lie on it. With `resample`
    (a pandas offset such as "1h", "1D" or "W"), every numeric column is
    aggregated by `how` ("mean", "sum", ...) over bins of that width, which
    also merges repeated times and places irregular ones. Absent steps (or
    empty bins) become rows of missing values, for `fill_gaps` to fill or refuse.

    Raises:
        UserInputError: a value that is not a time; without `resample`, a
            repeated time or one off the regular step, each naming the value
            and `--set resample=...`.
    """
    raw = frame[time_column]
    times = pd.to_datetime(raw, errors="coerce", format="mixed")
    if times.isna().any():
        bad = raw[times.isna()].iloc[0]
        raise UserInputError(
            f"{time_column!r} holds {bad!r}, not a time; fix it or name the time column "
            "with --set time_column=COL"
        )
    rule = resample_rule(resample)
    if rule is not None:
        return _aggregated(frame.assign(**{time_column: times}), time_column, rule, how)
    repeated = times[times.duplicated()]
    if not repeated.empty:
        raise UserInputError(
            f"{time_column!r} repeats {repeated.iloc[0]}; keep one row per time, or "
            f"aggregate them with {RESAMPLE_HINT}"
        )
    ordered = frame.assign(**{time_column: times}).sort_values(
        time_column, kind="stable"
    )
    if len(ordered) < 2:
        return ordered.reset_index(drop=True)
    step = ordered[time_column].diff().mode().iloc[0]
    grid = _grid(ordered[time_column], step)
    off_grid = ~ordered[time_column].isin(grid)
    if off_grid.any():
        raise UserInputError(
            f"{time_column!r} has {ordered[time_column][off_grid].iloc[0]}, off the regular "
            f"step of {step}; resample the series to one step with {RESAMPLE_HINT}"
        )
    regular = ordered.set_index(time_column).reindex(grid).rename_axis(time_column)
    return regular.reset_index()


def _grid(times: pd.Series, step: pd.Timedelta) -> pd.DatetimeIndex:
    """The regular times from the first to the last: whole months (or quarters,
    half-years, years) at month starts or ends when every time lies on them,
    else a fixed step."""
    first, last = times.iloc[0], times.iloc[-1]
    months = round(step / pd.Timedelta(days=30.436875))
    if step >= pd.Timedelta(days=28) and months >= 1:
        for anchor in ("MS", "ME"):
            calendar = pd.date_range(first, last, freq=f"{months}{anchor}")
            if len(calendar) and times.isin(calendar).all():
                return calendar
    return pd.date_range(first, last, freq=step)


def _aggregated(
    frame: pd.DataFrame, time_column: str, rule: str, how: str
) -> pd.DataFrame:
    """Every other column aggregated by `how` over bins of `rule`, checked as numbers
    first (so text is named, not averaged away)."""
    lookup(dict.fromkeys(AGGREGATIONS), how, "resample_how")
    columns = [name for name in frame.columns if name != time_column]
    numbers = frame.assign(
        **{name: _numbers(frame, name, time_column) for name in columns}
    )
    binned = numbers.set_index(time_column)[columns].resample(rule)
    # min_count=1: an empty bin is a gap, not a sum of 0
    table = binned.sum(min_count=1) if how == "sum" else binned.agg(how)
    return table.rename_axis(time_column).reset_index()


def series_step(times: pd.Series) -> pd.Timedelta:
    """The most common difference between consecutive times (1 hour if fewer than two)."""
    steps = pd.to_datetime(times).diff().dropna()
    return steps.mode().iloc[0] if len(steps) else pd.Timedelta(hours=1)


TRAINING_GAP_ADVICE = (
    "fill them, raise --set max_gap={longest}, or aggregate to a coarser regular "
    f"step with {RESAMPLE_HINT}"
)
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclasses.dataclass(frozen=True)
class Gap:
    """A run of missing values in one column: its length and first and last rows."""

    column: str
    length: int
    first: int
    last: int


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
            (training can raise max_gap; predict can only fill the file);
            "{longest}" in it becomes the length of the longest gap.

    Raises:
        UserInputError: gaps longer than `limit`, naming the first one and the
            longest one with their rows; a non-numeric value; or a value that
            is not finite or beyond float32's range, naming its row.
    """
    filled = frame.copy()
    long_gaps = []
    for column in columns:
        values = _numbers(frame, column, label)
        long_gaps += [gap for gap in _gaps(column, values) if gap.length > limit]
        filled[column] = values.interpolate(limit_direction="both").astype("float32")
    if long_gaps:
        first = min(long_gaps, key=lambda gap: gap.first)
        longest = max(long_gaps, key=lambda gap: (gap.length, -gap.first))
        message = f"{_describe(first, frame, label)}, more than max_gap={limit}"
        if longest != first:
            message += f"; the longest gap: {_describe(longest, frame, label)}"
        advice = gap_advice.replace("{longest}", str(longest.length))
        raise UserInputError(f"{message}; {advice}")
    return filled


def _gaps(column: str, values: pd.Series) -> list[Gap]:
    """Every run of missing values, by position, in time order."""
    missing = values.isna().to_numpy()
    edges = np.diff(np.concatenate([[0], missing.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        Gap(column, int(stop - start), int(start), int(stop - 1))
        for start, stop in zip(starts, stops, strict=True)
    ]


def _describe(gap: Gap, frame: pd.DataFrame, label: str) -> str:
    first, last = frame[label].iloc[gap.first], frame[label].iloc[gap.last]
    return (
        f"column {gap.column!r} misses {gap.length} values in a row ({first} to {last})"
    )


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


CALENDARS: Mapping[str, tuple[str, str]] = {
    "hour": ("hour_sin", "hour_cos"),
    "weekday": ("weekday_sin", "weekday_cos"),
    "year": ("year_sin", "year_cos"),
}
CALENDAR_COLUMNS = tuple(name for pair in CALENDARS.values() for name in pair)


def calendar_kind(step: pd.Timedelta) -> str | None:
    """The calendar cycle a series of this step can see move.

    Steps under a day see the hour of day; daily steps, the day of the week;
    weekly up to quarterly steps, the position in the year. A yearly or longer
    step has no cycle that is not constant, so None.
    """
    if step < pd.Timedelta(days=1):
        return "hour"
    if step < pd.Timedelta(days=7):
        return "weekday"
    if step < pd.Timedelta(days=183):
        return "year"
    return None


def calendar_kind_of(columns: Sequence[str]) -> str | None:
    """The calendar a list of input columns holds (exports name them among their inputs)."""
    return next(
        (kind for kind, names in CALENDARS.items() if names[0] in columns), None
    )


def calendar_features(times: pd.Series, kind: str = "hour") -> pd.DataFrame:
    """The position in one calendar cycle as a point on the unit circle.

    Args:
        times: time stamps.
        kind: "hour" (hour of day, minutes included), "weekday" (day of week)
            or "year" (fraction of the year, for weekly to quarterly steps).

    Returns:
        Two float32 columns named by `CALENDARS[kind]`.

    A sub-daily series gets no day of the year on purpose: with a year or less
    of history, a chronological test period holds days the model never saw,
    and a model that keys on the date extrapolates badly there.
    """
    stamps = pd.to_datetime(times)
    if kind == "hour":
        fraction = (stamps.dt.hour + stamps.dt.minute / 60).to_numpy() / 24
    elif kind == "weekday":
        fraction = stamps.dt.day_of_week.to_numpy() / 7
    else:
        lookup(CALENDARS, kind, "calendar")
        days = np.where(stamps.dt.is_leap_year, 366, 365)
        fraction = (stamps.dt.day_of_year.to_numpy() - 1) / days
    angle = 2 * np.pi * np.asarray(fraction, float)
    sin, cos = CALENDARS[kind]
    return pd.DataFrame(
        {sin: np.sin(angle), cos: np.cos(angle)}, index=times.index
    ).astype("float32")


def range_departure(
    train: np.ndarray, part: np.ndarray, margin: float
) -> tuple[float, float] | None:
    """The range of `part` if it leaves the range of `train` widened by `margin`
    times its width on each side, else None."""
    low, high = float(np.nanmin(train)), float(np.nanmax(train))
    slack = margin * (high - low)
    part_low, part_high = float(np.nanmin(part)), float(np.nanmax(part))
    if part_low < low - slack or part_high > high + slack:
        return part_low, part_high
    return None


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
