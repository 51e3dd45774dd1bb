"""What every task provides, and the settings every task shares.

A task turns a `--data` spec into batched datasets (`prepare`), builds a compiled
Keras model (`build_model`), scores any predictor on the test split next to its
baselines (`evaluate`), and names the serving functions of its SavedModel
(`endpoints`). The runner in `pipelines.runner` does the rest the same way for
every task: configuration, training, TensorBoard, checkpoints and export.
"""

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import keras
import numpy as np
import tensorflow as tf

from recurrent.choices import lookup
from recurrent.errors import UserInputError

SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Training settings shared by every task; tasks subclass it with their own fields.

    Attributes:
        seed: seeds Python, NumPy and the backend before data and model are built.
        epochs: maximum number of epochs.
        batch_size: examples per training batch.
        learning_rate: Adam learning rate.
        clipnorm: gradients are clipped to this global norm (0 disables clipping).
        patience: epochs without validation improvement before stopping early.
        max_batches: if positive, train and validate on at most this many batches
            per epoch (for smoke runs).
        schedule: the learning rate over training: "constant", or "cosine"
            (linear warm-up over the first `warmup` share of the steps of
            `epochs` epochs, then cosine decay to zero; Loshchilov and Hutter
            2017, with warm-up as in Goyal et al. 2017).
        warmup: share of the training steps spent warming up ("cosine").
    """

    seed: int = 1234
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    clipnorm: float = 1.0
    patience: int = 3
    max_batches: int = 0
    schedule: str = "constant"
    warmup: float = 0.1

    TINY: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self):
        self.at_least(epochs=1, batch_size=1, patience=0, max_batches=0, clipnorm=0)
        self.require("learning_rate", self.learning_rate > 0, "positive")
        self.in_unit_interval("warmup")
        self.choose(schedule=SCHEDULES)

    def require(self, name: str, ok: bool, requirement: str) -> None:
        """Raises an error that names the setting, its value and `requirement`."""
        if not ok:
            raise UserInputError(
                f"{name} must be {requirement}, got {getattr(self, name)!r}"
            )

    def at_least(self, **lowest: float) -> None:
        """Checks each named setting is at least its given value."""
        for name, bound in lowest.items():
            self.require(name, getattr(self, name) >= bound, f"at least {bound}")

    def choose(self, **choices) -> None:
        """Checks each named string setting is one of its choices, in any case,
        and keeps it in lower case, so `Window` and `window` are one setting."""
        for name, valid in choices.items():
            lookup(dict.fromkeys(valid), getattr(self, name), name)
            object.__setattr__(self, name, str(getattr(self, name)).lower())

    def in_unit_interval(self, *names: str) -> None:
        """Checks each named setting (a rate such as dropout) lies in [0, 1)."""
        for name in names:
            self.require(name, 0 <= getattr(self, name) < 1, "in [0, 1)")

    def tiny(self) -> Self:
        """A configuration small enough to run end to end in seconds."""
        shared = {"epochs": 2, "batch_size": 8, "max_batches": 3, "patience": 2}
        return dataclasses.replace(self, **(shared | dict(self.TINY)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def batch_dataset(
    inputs, targets, config: TaskConfig, shuffle: bool
) -> tf.data.Dataset:
    """A `(inputs, targets)` dataset: shuffled with the seed if asked, batched, and cut
    to `max_batches` batches for smoke runs."""
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(len(targets), seed=config.seed)
    dataset = dataset.batch(config.batch_size)
    if config.max_batches > 0:
        dataset = dataset.take(config.max_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def learning_rate(config: TaskConfig, steps_per_epoch: int):
    """The configured learning rate: a number, or a schedule over the
    `config.epochs * steps_per_epoch` training steps."""
    if config.schedule == "constant":
        return config.learning_rate
    total = max(1, config.epochs * steps_per_epoch)
    warmup = int(config.warmup * total)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.learning_rate,
        decay_steps=max(1, total - warmup),
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def optimizer(
    config: TaskConfig, train: tf.data.Dataset | None = None
) -> keras.optimizers.Optimizer:
    """Adam with the configured learning rate (and schedule, over the batches
    of `train`) and gradient clipping by global norm."""
    clipping = {"global_clipnorm": config.clipnorm} if config.clipnorm > 0 else {}
    steps = 0 if train is None else int(train.cardinality())
    if config.schedule != "constant" and steps <= 0:
        raise ValueError("a learning-rate schedule needs a dataset of known length")
    rate = learning_rate(config, steps)
    return keras.optimizers.Adam(learning_rate=rate, **clipping)


@dataclasses.dataclass
class Prepared:
    """A task's data: model-ready datasets plus the raw splits and fitted preprocessing.

    Attributes:
        train: batched `(inputs, targets)` dataset for `fit`.
        validation: batched dataset for validation.
        splits: the raw `train`, `validation` and `test` tables (pandas).
        fingerprint: digest of the raw data.
        assets: fitted preprocessing the model and its export need (vocabulary,
            label names, scalers...), by name: JSON values or Keras objects
            (with `get_config`), as the runner stores them in assets.json.
        test: batched test dataset like `validation` (e.g. for perplexity), for
            tasks that score the model on batches too; None otherwise.
        serving: the runner's cache of traced endpoints, by model
            (`pipelines.runner.export.serving_functions`); not data.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    splits: Mapping[str, Any]
    fingerprint: str
    assets: dict[str, Any]
    test: tf.data.Dataset | None = None
    serving: dict[int, Any] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )


@dataclasses.dataclass
class Evaluation:
    """Scores on the test split: the model's, each baseline's, and a printable report."""

    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    report: str


Predictor = Callable[[Sequence[Any]], dict[str, np.ndarray]]
Endpoint = tuple[Callable[..., Any], list[tf.TensorSpec]]


def batched(
    function: Callable[..., Mapping[str, Any]], batch_size: int = 256
) -> Predictor:
    """Wraps a serving function (raw tensor in, dict out) to take a Python list of any size."""

    def predict(inputs: Sequence[Any]) -> dict[str, np.ndarray]:
        parts = [
            function(tf.constant(list(inputs[start : start + batch_size])))
            for start in range(0, len(inputs), batch_size)
        ]
        return {
            key: np.concatenate([np.asarray(part[key]) for part in parts])
            for key in parts[0]
        }

    return predict


class Task(abc.ABC):
    """A task of the suite; each module `tasks/<name>.py` defines `TASK = <Task>()`.

    Attributes:
        name: the module name, used in paths and on the command line.
        summary: one line for `python -m pipelines`.
        default_data: the bundled `--data` used when none is given.
        Config: the task's `TaskConfig` subclass.
        input_help: what `predict` takes, for `--help` and errors.
        model_assets: assets the exported model was built for; evaluating an
            export refuses settings that change them.
        inherited_assets: the fitted preprocessing a run started from another
            (`--init-from`) takes from it rather than fitting anew on its data
            (its `prepare` gets them as `inherited`); None: the task cannot
            start from another run.
        serving_endpoint: the endpoint that takes raw inputs; `predict` goes
            through it, and `evaluate` and `samples` unless
            `evaluation_endpoint` names another.
        figure_endpoint: the endpoint whose predictor `figures` gets (default:
            the serving one).
        evaluation_endpoint: the endpoint whose predictor `evaluate` and
            `samples` get (default: the serving one), e.g. one that also
            returns attention weights to score.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    default_data: ClassVar[str]
    Config: ClassVar[type[TaskConfig]]
    input_help: ClassVar[str]
    model_assets: ClassVar[tuple[str, ...]] = ()
    inherited_assets: ClassVar[tuple[str, ...] | None] = None
    serving_endpoint: ClassVar[str] = "serve"
    figure_endpoint: ClassVar[str | None] = None
    evaluation_endpoint: ClassVar[str | None] = None

    @abc.abstractmethod
    def prepare(
        self, config: TaskConfig, data: str, inherited: Mapping[str, Any] | None = None
    ) -> Prepared:
        """Loads the splits of `data` and fits preprocessing on the training split.

        `inherited` holds the `inherited_assets` of the run this one starts
        from (or None): the task uses them instead of fitting its own, and
        their `assets` entries are those same values.
        """

    @abc.abstractmethod
    def build_model(self, config: TaskConfig, prepared: Prepared) -> keras.Model:
        """Returns the compiled model."""

    def pretrain(
        self, model: keras.Model, config: TaskConfig, prepared: Prepared
    ) -> None:
        """Trains parts of a freshly built `model` before `fit` (for example
        language-model pretraining of its encoder); nothing by default. A run
        that resumes skips it: its weights hold the pretraining already."""
        return None

    @abc.abstractmethod
    def endpoints(self, model: keras.Model, prepared: Prepared) -> dict[str, Endpoint]:
        """Serving functions by name; `serving_endpoint` takes raw inputs and is the default."""

    @abc.abstractmethod
    def evaluate(
        self, predict: Predictor, prepared: Prepared, config: TaskConfig
    ) -> Evaluation:
        """Scores `predict` and the task's baselines on the test split."""

    @abc.abstractmethod
    def read_inputs(
        self, values: Sequence[str], input_file: str | None, metadata: Mapping[str, Any]
    ) -> list[Any]:
        """Turns command-line values and `--input FILE` into raw inputs for "serve".

        `metadata` is the export's metadata.json (config, assets).
        """

    @abc.abstractmethod
    def format_predictions(
        self, inputs: Sequence[Any], outputs: Mapping[str, np.ndarray]
    ) -> str:
        """Readable predictions for the terminal."""

    @abc.abstractmethod
    def samples(self, predict: Predictor, prepared: Prepared) -> str:
        """A few validation predictions as Markdown, for TensorBoard's text tab."""

    def callbacks(
        self, config: TaskConfig, prepared: Prepared, model: keras.Model
    ) -> list[keras.callbacks.Callback]:
        """Keras callbacks of the task's own training schedule (none by
        default); they run before the runner's, so what they add to an
        epoch's logs reaches history.csv and TensorBoard."""
        return []

    def figures(self, predict: Predictor, prepared: Prepared) -> dict[str, Any]:
        """Matplotlib figures of a few validation predictions, by name (none by default)."""
        return {}

    def sample_inputs(self, prepared: Prepared, count: int = 3) -> list[Any]:
        """A few raw test inputs, used to show the export at the end of a run."""
        return []


def inherited_or(
    inherited: Mapping[str, Any] | None, name: str, fit: Callable[[], Any]
) -> Any:
    """The asset `name` of the run this one starts from, or `fit()` if none."""
    if inherited and name in inherited:
        return inherited[name]
    return fit()


def latest_export(path: str) -> Path | None:
    """The export at `path`, or the highest numbered one inside it; None if absent."""
    folder = Path(path)
    if (folder / "saved_model.pb").is_file():
        return folder
    if not folder.is_dir():
        return None
    versions = sorted(
        (int(child.name), child)
        for child in folder.iterdir()
        if child.name.isdigit() and (child / "saved_model.pb").is_file()
    )
    return versions[-1][1] if versions else None


def existing_file(path: str) -> Path:
    """The path of an existing input file, or a clear error."""
    file = Path(path)
    try:
        found = file.is_file()
    except OSError:  # e.g. a name too long for the file system
        found = False
    if not found:
        raise UserInputError(f"input file {path[:200]!r} not found")
    return file


def read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 text file, or a clear error if it is missing or not UTF-8."""
    try:
        return existing_file(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise UserInputError(
            f"input file {path!r} is not UTF-8 text (byte "
            f"{error.object[error.start]:#04x} at offset {error.start}); convert it, "
            "e.g. iconv -f ENCODING -t UTF-8 FILE > NEW_FILE"
        ) from None


def text_inputs(
    values: Sequence[str], input_file: str | None, nothing: str
) -> list[str]:
    """The non-blank texts given on the command line and in `input_file` (one a
    line); `nothing` is the error when there are none."""
    lines = read_lines(input_file) if input_file else []
    texts = [value for value in [*values, *lines] if value.strip()]
    if not texts:
        raise UserInputError(nothing)
    return texts
