"""Time-series forecasting: recurrent forecasters with probabilistic heads.

The series is split in time order (train, validation, test) and cut into
windows that never cross a split boundary: `lookback` past steps of every
feature in, the next `horizon` values of the target out. Scaling is fitted on
the training part only and lives inside the export, which takes raw windows.

Windows are standardised by statistics of the training part ("global"), and
optionally also each by its own mean and spread (`normalize=window`, RevIN) or
differenced (`difference=LAG`); both are undone on the outputs inside the
network, so a series whose later values leave the training range is forecast
from each window's own level. Calendar inputs follow the series' step.

Models: many-to-one (a RecurrentEncoder, then a head over all lead times) or
sequence-to-sequence (the encoder's states start an autoregressive recurrent
decoder). Heads: point (MSE), Gaussian (negative log-likelihood) or quantile
(pinball loss). Baselines, scored on the same test windows by rolling origin:
naive, seasonal naive and Holt-Winters fitted on the training part.
"""

import dataclasses
import sys
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from recurrent.baselines.forecasting import HoltWinters, naive, seasonal_naive
from recurrent.data.sources import fingerprint, load_table, parse_spec
from recurrent.data.windows import (
    AGGREGATIONS,
    CALENDAR_COLUMNS,
    TRAINING_GAP_ADVICE,
    Scaler,
    calendar_features,
    calendar_kind,
    calendar_kind_of,
    chronological_split,
    fill_gaps,
    minimum_length,
    range_departure,
    regular_series,
    resample_rule,
    series_step,
    windows,
)
from recurrent.errors import UserInputError
from recurrent.layers import CELLS
from recurrent.layers.forecast import DISTRIBUTIONS, point_index
from recurrent.losses import ForecastLoss
from recurrent.metrics import forecasting as scores
from recurrent.metrics.report import side_by_side
from recurrent.models.forecaster import forecaster
from recurrent.plots import forecast_figure
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    batch_dataset,
    existing_file,
    inherited_or,
    optimizer,
)

MODELS = ("many_to_one", "seq2seq")
NORMALIZATIONS = ("global", "window")
# Calendar input names of every kind (hour of day, day of week, time of year).
CALENDAR = CALENDAR_COLUMNS
# A validation or test target further than this share of the training range
# outside that range is reported: a model scaled on training extrapolates there.
RANGE_MARGIN = 0.1
# The export forecasts NaN for a window holding a value further than this many
# training standard deviations from the training mean. Real extremes lie within
# tens of standard deviations (10 is already a one-in-1e23 Gaussian event); past
# 1e4 the value is a unit mistake or a fill code such as 1e38 or -9.9e36, which
# saturated recurrent units would turn into a plausible, meaningless forecast.
OUTLIER_BOUND = 1e4


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of forecasting (see `TaskConfig` for the shared ones).

    Attributes:
        target: column to forecast.
        time_column: column of timestamps (any format pandas parses).
        features: input columns; the target is always included, first.
        calendar: add calendar inputs that follow the series' step: hour of
            day under a daily step, day of week for daily steps, time of year
            for weekly to quarterly steps (none for yearly).
        lookback: past steps in each input window.
        horizon: steps forecast after each window.
        stride: steps between training windows (evaluation uses every origin).
        max_gap: longest run of missing values that is interpolated.
        validation_fraction, test_fraction: shares of the series, in time order.
        model: "seq2seq" (encoder and autoregressive decoder) or "many_to_one".
        cell, bidirectional, layers, units, dropout: the recurrent encoder.
        head: "point", "gaussian" or "quantile".
        quantiles: increasing levels of the quantile head, 0.1 and 0.9 among
            them (the 80% interval).
        season: steps per season, for seasonal naive, Holt-Winters and MASE.
        normalize: "global" (statistics of the training part only) or
            "window" (then also each window by its own mean and standard
            deviation, undone on the forecast: RevIN).
        difference: lag the model differences its inputs at and forecasts the
            change from the last value at that lag (0: off; 1: from the last
            value; the season: from the last season).
        resample: a pandas offset ("1h", "1D", "W") to aggregate the series to
            before anything else, for irregular or repeated times; "off" keeps
            the series' own step.
        resample_how: the aggregation of each bin: mean, median, sum, min,
            max, first or last.
    """

    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 6
    target: str = "dry_bulb"
    time_column: str = "time"
    features: tuple[str, ...] = (
        "dry_bulb",
        "dew_point",
        "rel_humidity",
        "pressure",
        "wind_speed",
        "ghi",
        "total_cloud",
    )
    calendar: bool = True
    lookback: int = 72
    horizon: int = 24
    stride: int = 1
    max_gap: int = 6
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    model: str = "seq2seq"
    cell: str = "lstm"
    bidirectional: bool = False
    layers: int = 1
    units: int = 64
    dropout: float = 0.0
    head: str = "gaussian"
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    season: int = 24
    normalize: str = "global"
    difference: int = 0
    resample: str = "off"
    resample_how: str = "mean"

    TINY = {"lookback": 24, "horizon": 6, "units": 8, "stride": 6}

    def __post_init__(self):
        super().__post_init__()
        self.choose(
            model=MODELS,
            head=DISTRIBUTIONS,
            cell=CELLS,
            normalize=NORMALIZATIONS,
            resample_how=AGGREGATIONS,
        )
        resample_rule(self.resample)
        self.at_least(
            lookback=1,
            horizon=1,
            stride=1,
            season=1,
            units=1,
            layers=1,
            max_gap=0,
            difference=0,
        )
        self.require(
            "difference",
            self.difference < self.lookback,
            f"less than lookback={self.lookback} (0 turns it off)",
        )
        self.in_unit_interval("dropout")
        for name in ("validation_fraction", "test_fraction"):
            self.require(name, 0 < getattr(self, name) < 1, "in (0, 1)")
        self.require(
            "test_fraction",
            self.validation_fraction + self.test_fraction < 1,
            "less than 1 - validation_fraction (some data must be left to train)",
        )
        levels = list(self.quantiles)
        if self.head == "quantile" and (
            levels != sorted(set(levels))
            or not {0.1, 0.9} <= set(levels)
            or levels[-1] >= 1
        ):
            raise UserInputError(
                "quantiles must increase, lie in (0, 1) and include 0.1 and 0.9 "
                "(the 80% interval), e.g. quantiles=0.1,0.5,0.9"
            )

    @property
    def measured(self) -> list[str]:
        """Measured input columns, in order: the target first."""
        return list(dict.fromkeys([self.target, *self.features]))


def interval_quantiles(quantiles: Sequence[float]) -> tuple[int, int]:
    """Indices of the 0.1 and 0.9 quantiles: the 80% interval."""
    return list(quantiles).index(0.1), list(quantiles).index(0.9)


def complete(
    part: pd.DataFrame,
    measured: Sequence[str],
    settings: Mapping,
    calendar: str | None,
    gap_advice: str = TRAINING_GAP_ADVICE,
) -> pd.DataFrame:
    """Fills short gaps of one contiguous part and adds the calendar inputs.

    `settings` holds "time_column" and "max_gap" (the export's assets carry the
    same keys, so predict completes rows as training did); `calendar` is the
    kind of calendar input (`recurrent.data.windows.CALENDARS`) or None;
    `gap_advice` ends the error on a gap longer than max_gap.
    """
    time_column = settings["time_column"]
    part = fill_gaps(
        part.reset_index(drop=True),
        measured,
        settings["max_gap"],
        time_column,
        gap_advice,
    )
    if calendar is not None:
        part = pd.concat([part, calendar_features(part[time_column], calendar)], axis=1)
    return part


def warn_range_shift(splits: Mapping[str, pd.DataFrame], config: Config) -> None:
    """Prints a warning for each split whose target leaves the training range."""
    train = splits["train"][config.target].to_numpy(float)
    if config.normalize == "window" or config.difference:
        advice = (
            f"with normalize={config.normalize} and difference={config.difference}, "
            "each window is forecast from its own level"
        )
    else:
        advice = (
            "try --set normalize=window (or difference=1), which forecasts each "
            "window from its own level"
        )
    for name in ("validation", "test"):
        departure = range_departure(
            train, splits[name][config.target].to_numpy(float), RANGE_MARGIN
        )
        if departure is not None:
            print(
                f"warning: the {name} values of {config.target!r} run from "
                f"{departure[0]:.4g} to {departure[1]:.4g}, outside the training "
                f"range {train.min():.4g} to {train.max():.4g} by more than "
                f"{RANGE_MARGIN:.0%} of its width, where scaling fitted on the "
                f"training part extrapolates; {advice}",
                file=sys.stderr,
                flush=True,
            )


def check_length(steps: int, config: Config) -> None:
    """Refuses a series too short for one window in each of train, validation and test.

    Raises:
        UserInputError: naming the steps needed and the steps there are.
    """
    window = config.lookback + config.horizon
    needed = minimum_length(window, config.validation_fraction, config.test_fraction)
    if steps < needed:
        raise UserInputError(
            f"the series needs at least {needed} time steps for lookback="
            f"{config.lookback} plus horizon={config.horizon} in each of train, "
            f"validation and test (validation_fraction={config.validation_fraction}, "
            f"test_fraction={config.test_fraction}), but has {steps}; use a longer "
            "series, or smaller lookback and horizon"
        )


def blank_rows(values: tf.Tensor, keep: tf.Tensor) -> tf.Tensor:
    """`values` with NaN in every row where `keep` (shaped `[batch]`) is false."""
    rank = len(values.shape)
    keep = tf.reshape(keep, [-1] + [1] * (rank - 1))
    return tf.where(keep, values, tf.fill(tf.shape(values), float("nan")))


def build_network(config: Config, features: int, measured: int = 1) -> keras.Model:
    """The configured `recurrent.models.forecaster.forecaster` over `features`
    inputs, the first `measured` of them measurements."""
    return forecaster(
        config.lookback,
        features,
        config.horizon,
        model=config.model,
        head=config.head,
        quantiles=config.quantiles,
        cell=config.cell,
        units=config.units,
        layers=config.layers,
        bidirectional=config.bidirectional,
        dropout=config.dropout,
        measured=measured,
        normalize=config.normalize,
        difference=config.difference,
    )


class Forecasting(Task):
    name = "forecasting"
    summary = TASKS["forecasting"].summary
    default_data = "tmy_weather"
    Config = Config
    model_assets = ("inputs", "lookback", "horizon", "resample")
    inherited_assets = ("inputs", "scale_mean", "scale_std")
    input_help = TASKS["forecasting"].input_help

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        measured = config.measured
        table = load_table(
            data,
            {name: name for name in [config.time_column, *measured]},
            hint="Choose columns with --set target=COL time_column=COL features=A,B,C.",
        )
        series = regular_series(
            table, config.time_column, config.resample, config.resample_how
        )
        check_length(len(series), config)
        settings = {
            "time_column": config.time_column,
            "max_gap": config.max_gap,
            "calendar": config.calendar,
            "resample": config.resample,
            "resample_how": config.resample_how,
        }
        step = series_step(series[config.time_column])
        calendar = calendar_kind(step) if config.calendar else None
        splits = {
            name: complete(part, measured, settings, calendar)
            for name, part in chronological_split(
                series, config.validation_fraction, config.test_fraction
            ).items()
        }
        found = measured + [
            name for name in splits["train"].columns if name in CALENDAR
        ]
        inputs = inherited_or(inherited, "inputs", lambda: found)
        if inputs != found:
            raise UserInputError(
                f"the run this one starts from reads the inputs {inputs}, but "
                f"{data} with these settings gives {found}; --set target, features "
                "and calendar as that run had them, or train without --init-from"
            )
        scaler = (
            Scaler(
                np.asarray(inherited["scale_mean"], "float32"),
                np.asarray(inherited["scale_std"], "float32"),
            )
            if inherited
            else Scaler.fit(splits["train"][inputs].to_numpy("float32"))
        )

        # Every part, test included: the export refuses windows beyond the bound.
        scaled = {
            name: scaler.scale(frame, inputs, config.time_column, OUTLIER_BOUND)
            for name, frame in splits.items()
        }

        def dataset(split: str, shuffle: bool) -> tf.data.Dataset:
            values = scaled[split]
            x, y = windows(
                values, values[:, 0], config.lookback, config.horizon, config.stride
            )
            return batch_dataset(x, y, config, shuffle)

        print(
            "chronological split: "
            + ", ".join(
                f"{name} {len(frame)} steps from {frame[config.time_column].iloc[0]}"
                for name, frame in splits.items()
            )
            + f"; step {step}, calendar inputs: {calendar or 'none'}"
        )
        warn_range_shift(splits, config)
        return Prepared(
            train=dataset("train", shuffle=True),
            validation=dataset("validation", shuffle=False),
            splits=splits,
            fingerprint=fingerprint(
                {
                    name: frame.astype({config.time_column: str})
                    for name, frame in splits.items()
                }
            ),
            assets={
                "inputs": inputs,
                "target": config.target,
                "lookback": config.lookback,
                "horizon": config.horizon,
                **settings,
                "scale_mean": scaler.mean.tolist(),
                "scale_std": scaler.std.tolist(),
                "head": config.head,
                "quantiles": list(config.quantiles),
                "normalize": config.normalize,
                "difference": config.difference,
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        inputs = prepared.assets["inputs"]
        measured = sum(name not in CALENDAR for name in inputs)
        model = build_network(config, len(inputs), measured)
        model.compile(
            optimizer=optimizer(config, prepared.train),
            loss=ForecastLoss(config.head, config.quantiles),
        )
        return model

    def endpoints(self, model, prepared):
        assets = prepared.assets
        config_head, quantiles = assets["head"], assets["quantiles"]
        mean = tf.constant(assets["scale_mean"], tf.float32)
        std = tf.constant(assets["scale_std"], tf.float32)
        shift, scale = mean[0], std[0]
        point = point_index(config_head, quantiles)

        def serve(window):
            """Forecasts raw windows `[batch, lookback, features]` in raw units.

            A window holding NaN, an infinity or a value more than
            `OUTLIER_BOUND` training standard deviations from the training mean
            gets NaN in every output of its row; the model sees zeros in its
            place, so the other rows are forecast as if they were alone.
            """
            scaled = (window - mean) / std
            usable = tf.reduce_all(tf.abs(scaled) <= OUTLIER_BOUND, axis=[1, 2])
            scaled = tf.where(usable[:, None, None], scaled, tf.zeros_like(scaled))
            outputs = readable(model(scaled, training=False))
            return {name: blank_rows(value, usable) for name, value in outputs.items()}

        def readable(parameters):
            """Forecast parameters in raw units, with the 80% interval."""
            forecast = parameters[..., point] * scale + shift
            outputs = {"forecast": forecast}
            if config_head == "gaussian":
                spread = parameters[..., 1] * scale
                outputs |= {
                    "scale": spread,
                    "lower": forecast - scores.Z80 * spread,
                    "upper": forecast + scores.Z80 * spread,
                }
            elif config_head == "quantile":
                levels = parameters * scale + shift
                low, high = interval_quantiles(quantiles)
                outputs |= {
                    "quantiles": levels,
                    "lower": levels[..., low],
                    "upper": levels[..., high],
                }
            return outputs

        signature = [
            tf.TensorSpec(
                [None, assets["lookback"], len(assets["inputs"])],
                tf.float32,
                name="window",
            )
        ]
        return {"serve": (serve, signature)}

    def _windows(self, prepared: Prepared, split: str):
        """Raw windows of a split at every origin, their targets, and the origins'
        indices in the whole series."""
        assets = prepared.assets
        part = prepared.splits[split]
        x, y = windows(
            part[assets["inputs"]].to_numpy("float32"),
            part[assets["target"]].to_numpy("float32"),
            assets["lookback"],
            assets["horizon"],
        )
        names = list(prepared.splits)
        start = sum(len(prepared.splits[name]) for name in names[: names.index(split)])
        origins = start + assets["lookback"] - 1 + np.arange(len(x))
        return x, y, origins

    def evaluate(self, predict, prepared, config: Config) -> Evaluation:
        x, actual, origins = self._windows(prepared, "test")
        target = config.target
        series = pd.concat(
            [prepared.splits[s][target] for s in ("train", "validation", "test")]
        )
        series = series.to_numpy(float)
        train = prepared.splits["train"][target].to_numpy(float)
        scale = scores.seasonal_scale(train, config.season)
        outputs = predict(x)
        metrics = scores.point_scores(actual, outputs["forecast"], scale)
        if "lower" in outputs:
            metrics["coverage_80"] = scores.coverage(
                actual, outputs["lower"], outputs["upper"]
            )
        if config.head == "gaussian":
            metrics["crps"] = scores.crps_gaussian(
                actual, outputs["forecast"], outputs["scale"]
            )
        elif config.head == "quantile":
            metrics["mean_pinball"] = scores.mean_pinball(
                actual, outputs["quantiles"], config.quantiles
            )
        print(
            f"fitting the Holt-Winters baseline (season {config.season}) on the training part"
        )
        holt_winters = HoltWinters.fit(train, config.season)
        baselines = {
            "naive": scores.point_scores(
                actual, naive(series, origins, config.horizon), scale
            ),
            "seasonal_naive": scores.point_scores(
                actual,
                seasonal_naive(series, origins, config.horizon, config.season),
                scale,
            ),
            "holt_winters": scores.point_scores(
                actual, holt_winters.forecast(series, origins, config.horizon), scale
            ),
        }
        for name, baseline in baselines.items():
            metrics[f"mae_ratio_to_{name}"] = metrics["mae"] / baseline["mae"]
        report = "\n\n".join(
            [
                f"test period: {len(x)} forecast origins, horizon {config.horizon}, "
                f"target {target!r}; MASE scaled by the seasonal naive MAE on train",
                side_by_side({"model": metrics, **baselines}),
                "MAE by lead time: "
                + " ".join(f"{value:.2f}" for value in metrics["mae_by_lead"]),
            ]
        )
        return Evaluation(metrics=metrics, baselines=baselines, report=report)

    def read_inputs(self, values, input_file, metadata) -> list[np.ndarray]:
        paths = [*values, *([input_file] if input_file is not None else [])]
        if not paths:
            raise UserInputError(
                "nothing to forecast: pass CSV files of recent rows (or --input FILE)"
            )
        if not all(str(path).strip() for path in paths):
            raise UserInputError(
                "an input path is empty: pass the path of a CSV file of recent rows "
                "(the time column and every measured input), e.g. predict recent.csv"
            )
        assets = metadata.get("assets", {})
        return [self._window_from_csv(path, assets) for path in paths]

    def _window_from_csv(self, path: str, assets: Mapping) -> np.ndarray:
        """The last `lookback` steps of a CSV, completed as in training."""
        measured = [name for name in assets["inputs"] if name not in CALENDAR]
        table = load_table(
            parse_spec(str(existing_file(path))),
            {name: name for name in [assets["time_column"], *measured]},
            hint="It needs the time column and every measured input of the model.",
        )
        recent = regular_series(
            table,
            assets["time_column"],
            assets.get("resample", "off"),
            assets.get("resample_how", "mean"),
        ).tail(assets["lookback"])
        if len(recent) < assets["lookback"]:
            raise UserInputError(
                f"{path} spans {len(recent)} steps; the model needs the last {assets['lookback']}"
            )
        advice = (
            f"fill them in {path} (predict takes no --set: the export keeps the "
            "max_gap it was trained with)"
        )
        calendar = calendar_kind_of(assets["inputs"])
        window = complete(recent, measured, assets, calendar, gap_advice=advice)
        # Refused here with its row, rather than forecast as NaN by the export.
        scaler = Scaler(
            np.array(assets["scale_mean"], "float32"),
            np.array(assets["scale_std"], "float32"),
        )
        scaler.scale(window, assets["inputs"], assets["time_column"], OUTLIER_BOUND)
        return window[assets["inputs"]].to_numpy("float32")

    def format_predictions(self, inputs, outputs) -> str:
        blocks = []
        for index in range(len(inputs)):
            lines = [
                f"window {index + 1}: lead  forecast"
                + ("  80% interval" if "lower" in outputs else "")
            ]
            for lead, value in enumerate(outputs["forecast"][index], start=1):
                line = f"{lead:>15}  {value:8.2f}"
                if "lower" in outputs:
                    line += f"  [{outputs['lower'][index][lead - 1]:.2f}, {outputs['upper'][index][lead - 1]:.2f}]"
                lines.append(line)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def _examples(self, prepared: Prepared, count: int = 3):
        x, y, _ = self._windows(prepared, "validation")
        picks = np.linspace(0, len(x) - 1, count).astype(int)
        return x[picks], y[picks], picks

    def samples(self, predict, prepared) -> str:
        x, y, picks = self._examples(prepared)
        outputs = predict(x)
        rows = [
            "| validation window | MAE | actual (first 6) | forecast (first 6) |",
            "|---|---|---|---|",
        ]
        for i, pick in enumerate(picks):
            error = np.mean(np.abs(outputs["forecast"][i] - y[i]))
            actual = ", ".join(f"{v:.1f}" for v in y[i][:6])
            forecast = ", ".join(f"{v:.1f}" for v in outputs["forecast"][i][:6])
            rows.append(f"| {pick} | {error:.2f} | {actual} | {forecast} |")
        return "\n".join(rows)

    def figures(self, predict, prepared) -> dict:
        x, y, picks = self._examples(prepared)
        outputs = predict(x)
        return {
            f"forecast_{i + 1}": forecast_figure(
                x[i][:, 0],
                y[i],
                outputs["forecast"][i],
                outputs["lower"][i] if "lower" in outputs else None,
                outputs["upper"][i] if "upper" in outputs else None,
                title=f"{prepared.assets['target']}: validation window {pick}",
            )
            for i, pick in enumerate(picks)
        }

    def sample_inputs(self, prepared, count: int = 1) -> list[np.ndarray]:
        x, _, _ = self._windows(prepared, "test")
        return list(x[:count])


TASK = Forecasting()
