"""Resolves a `--data` spec into train/validation/test tables.

A spec is one of
- a bundled dataset name (e.g. `bbc_news`), prepared from an installed package;
- `tfds:<name>[/<config>]`, any TensorFlow Datasets dataset (downloaded and
  prepared by TFDS on first use, or read from `TFDS_DATA_DIR` if already there);
- a `.csv`, `.tsv` or `.jsonl` file. A `split` column (train/validation/test)
  is honoured; otherwise rows are split 80/10/10 by a hash of their key column;
- a folder, for tasks that read one (images and their captions, see
  `recurrent.data.captions`).

Every source ends as pandas DataFrames with the task's canonical column names.
"""

import contextlib
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recurrent.data.bundled import BUILDERS, bundled_builder
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

FILE_READERS = {
    ".csv": lambda path, header, **options: pd.read_csv(path, header=header, **options),
    ".tsv": lambda path, header, **options: pd.read_csv(
        path, sep="\t", quoting=3, header=header, **options
    ),
    ".txt": lambda path, header, **options: pd.read_csv(
        path, sep="\t", quoting=3, header=header, **options
    ),
    ".jsonl": lambda path, header, **options: pd.read_json(path, lines=True),
}
# In text data "NA", "None" or "null" is text (a word, a UI string): only an
# empty cell is missing. pandas would read them all as missing values.
ONLY_EMPTY_IS_MISSING = {"keep_default_na": False, "na_values": [""]}
TABLE_FORMS = (
    f"a bundled dataset ({', '.join(sorted(BUILDERS))}), tfds:<name>[/<config>], "
    "or a .csv, .tsv, .txt (tab-separated) or .jsonl file"
)
SPEC_FORMS = f"{TABLE_FORMS} (or a folder, for image captioning)"
# TFDS retries a failed download 10 times with exponential backoff (urllib3
# `Retry(total=downloader.MAX_RETRIES, backoff_factor=0.2)`): about 200 s to
# fail offline. This many retries still ride out a blip, and fail in ~1 s.
DOWNLOAD_RETRIES = 3


@dataclass(frozen=True)
class DataSpec:
    """A parsed `--data` value: `kind` is "bundled", "tfds", "file" or "folder"."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"tfds:{self.name}" if self.kind == "tfds" else self.name


def parse_spec(spec: str) -> DataSpec:
    """Parses a `--data` value, checking that a named file or folder exists."""
    spec = spec.strip()
    if spec.startswith("tfds:"):
        name = spec.removeprefix("tfds:").strip("/")
        if not name:
            raise UserInputError(
                "--data tfds: needs a dataset name, e.g. tfds:imdb_reviews"
            )
        return DataSpec("tfds", name)
    if spec.partition("/")[0] in BUILDERS:
        return DataSpec("bundled", spec)
    path = Path(spec).expanduser()
    exists, is_file = _probe(path)
    if exists and path.is_dir():
        return DataSpec("folder", str(path))
    if path.suffix.lower() in FILE_READERS or exists:
        if not is_file:
            raise UserInputError(
                f"data file {_shown(str(path))} not found; pass --data with an "
                f"existing file, or {SPEC_FORMS}"
            )
        if path.suffix.lower() not in FILE_READERS:
            raise UserInputError(
                f"cannot read {str(path)!r}: use a .csv, .tsv, .txt or .jsonl file"
            )
        return DataSpec("file", str(path))
    raise UserInputError(f"unknown data {_shown(spec)}; pass {SPEC_FORMS}")


def _probe(path: Path) -> tuple[bool, bool]:
    """(exists, is a file); both False for a name the OS refuses, e.g. too long."""
    try:
        return path.exists(), path.is_file()
    except OSError:
        return False, False


def _shown(value: str, limit: int = 80) -> str:
    """`value` quoted for a message, cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def load_splits(
    spec: str | DataSpec,
    columns: Mapping[str, str],
    *,
    key: str,
    data_dir: str | None = None,
    hint: str = "",
    positional: bool = False,
) -> dict[str, pd.DataFrame]:
    """Loads the train/validation/test tables of a data spec.

    Args:
        spec: the `--data` value.
        columns: canonical column name -> column name in the source.
        key: canonical column whose value decides the split of a row when the
            source has no split of its own.
        data_dir: TFDS data directory (default: TFDS's own).
        hint: appended to a missing-column error, e.g. which `--set` keys rename
            columns.
        positional: a tab-separated file whose first line does not name the
            columns has no header: its first columns are taken in the order of
            `columns` and any others ignored (the Tatoeba/Anki
            `source<TAB>target<TAB>attribution` format).

    Returns:
        `{"train": frame, "validation": frame, "test": frame}` with the canonical
        columns. Rows of a file with an empty value (missing or blank) are
        dropped, with a printed count per column; text such as "NA" or "None"
        is kept as text.
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    _refuse_folder(spec)
    if spec.kind == "file":
        frame = read_file(Path(spec.name), text=True)
        if positional and _headerless(frame, columns, Path(spec.name)):
            frame = read_file(Path(spec.name), header=None, text=True)
            if frame.shape[1] < len(columns):
                raise UserInputError(
                    f"{spec} needs {len(columns)} tab-separated fields per line "
                    f"({', '.join(columns)}), found {frame.shape[1]}"
                )
            frame = frame.set_axis(
                [*columns.values(), *frame.columns[len(columns) :]], axis=1
            )
        splits = _split_table(frame, columns, key, spec, hint)
    else:
        splits = _read_tfds(spec, columns, key, data_dir, hint)
    if len(splits["train"]) == 0:
        raise UserInputError(f"{spec} has no training rows; add data to it")
    return splits


def load_table(
    spec: str | DataSpec,
    columns: Mapping[str, str],
    *,
    data_dir: str | None = None,
    hint: str = "",
) -> pd.DataFrame:
    """Loads every row of a data spec as one table, in the source's order.

    For sources whose rows must stay together, such as a time series that is
    split chronologically later. Missing values are kept.

    Args:
        spec, columns, data_dir, hint: as for `load_splits`.
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    _refuse_folder(spec)
    if spec.kind == "file":
        frame = read_file(Path(spec.name))
        _check_columns(list(frame.columns), columns, spec, hint)
        table = frame[list(columns.values())]
    else:
        builder = prepared_builder(spec, data_dir)
        _check_columns(list(builder.info.features.keys()), columns, spec, hint)
        return pd.concat(
            [_tfds_table(builder, split, columns) for split in builder.info.splits],
            ignore_index=True,
        )
    return table.set_axis(list(columns), axis=1).reset_index(drop=True)


def fingerprint(splits: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 of every split's rows, to tell later which data a model saw."""
    digest = hashlib.sha256()
    for split in SPLITS:
        frame = splits[split]
        digest.update(f"{split}:{len(frame)}:{','.join(frame.columns)}\n".encode())
        for row in frame.itertuples(index=False):
            digest.update("\t".join(map(str, row)).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _refuse_folder(spec: DataSpec) -> None:
    if spec.kind == "folder":
        raise UserInputError(f"{spec} is a folder; this task reads {TABLE_FORMS}")


def read_file(path: Path, header: int | None = 0, text: bool = False) -> pd.DataFrame:
    """A data file as a table; with `text`, only empty cells are missing."""
    options = ONLY_EMPTY_IS_MISSING if text else {}
    try:
        frame = FILE_READERS[path.suffix.lower()](path, header, **options)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise UserInputError(f"cannot parse {str(path)!r}: {error}") from None
    if frame.empty:
        raise UserInputError(f"{str(path)!r} holds no rows; add data to it")
    return frame


def _headerless(frame: pd.DataFrame, columns: Mapping[str, str], path: Path) -> bool:
    named = all(column in frame.columns for column in columns.values())
    return path.suffix.lower() in (".tsv", ".txt") and not named


def _check_columns(available, columns: Mapping[str, str], source, hint: str):
    missing = [column for column in columns.values() if column not in available]
    if missing:
        raise UserInputError(
            f"{source} has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, available))}. {hint}".strip()
        )


def _split_table(frame, columns, key, source, hint) -> dict[str, pd.DataFrame]:
    _check_columns(list(frame.columns), columns, source, hint)
    table = frame[list(columns.values())].rename(
        columns={source_name: name for name, source_name in columns.items()}
    )
    if "split" in frame.columns and "split" not in columns:
        assignment = frame["split"].astype(str).str.lower().str.strip()
        unknown = sorted(set(assignment) - set(SPLITS))
        if unknown:
            raise UserInputError(
                f"{source}: unknown split value(s) {unknown}; use train, validation, test"
            )
    else:
        # Missing keys stay missing here (pandas' string dtype); their rows go next.
        assignment = table[key].astype(str).map(hash_split, na_action="ignore")
    table = _drop_empty(table.assign(_split=assignment.values), columns, source)
    return {
        split: table[table["_split"] == split]
        .drop(columns="_split")
        .reset_index(drop=True)
        for split in SPLITS
    }


def _drop_empty(table, columns: Mapping[str, str], source) -> pd.DataFrame:
    """Drops rows with an empty value in `columns`, printing how many per column."""
    empty = pd.DataFrame({name: _empty(table[name]) for name in columns})
    rows = empty.any(axis=1)
    if rows.any():
        counts = empty.sum().sort_values(ascending=False, kind="stable")
        per_column = " or ".join(
            f"{columns[name]!r} ({count})" for name, count in counts.items() if count
        )
        plural = "row" if rows.sum() == 1 else "rows"
        print(f"{source}: dropped {rows.sum()} {plural} with an empty {per_column}")
    return table[~rows]


def _empty(column: pd.Series) -> pd.Series:
    """Missing values and blank (whitespace-only) strings."""
    return column.isna() | column.astype(str).str.strip().eq("")


def prepared_builder(spec: DataSpec, data_dir: str | None):
    """The builder of a bundled or TFDS spec, prepared in `data_dir`."""
    # TFDS reads TFDS_DATA_DIR once, at import; honour its value now.
    data_dir = data_dir or os.environ.get("TFDS_DATA_DIR") or None

    if spec.kind == "bundled":
        try:
            builder = bundled_builder(spec.name, data_dir)
        except ValueError as error:
            if isinstance(error, UserInputError):
                raise
            raise UserInputError(f"{spec}: {_first_line(error)}") from None
    else:
        builder = _tfds_builder(spec.name, data_dir)
    if not builder.data_path.exists():  # as TFDS decides; is_prepared() logs
        _prepare(builder, spec)
    return builder


def _tfds_builder(name: str, data_dir: str | None):
    """`tfds.builder(name)`, its errors turned into messages that name the fix."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except (ValueError, AssertionError) as error:  # unknown name, config or version
        raise UserInputError(_tfds_problem(name, error)) from None


def _tfds_problem(name: str, error: Exception) -> str:
    """What is wrong with a TFDS name; for a bad config, the dataset's configs."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import naming

    try:
        dataset, kwargs = naming.parse_builder_name_kwargs(name)
        builder_cls = tfds.builder_cls(str(dataset))
    except ValueError:  # a malformed name, or DatasetNotFoundError
        detail = f" ({_first_line(error)})" if _first_line(error) else ""
        return (
            f"TFDS knows no dataset {_shown(name)}{detail}; check the name and "
            "config at tensorflow.org/datasets/catalog"
        )
    configs = [config.name for config in builder_cls.BUILDER_CONFIGS]
    config = kwargs.get("config")
    if config is None or config in configs:  # e.g. a version it does not have
        return f"tfds:{name}: {_first_line(error)}"
    if not configs:
        return f"tfds:{dataset} has no configs; use --data tfds:{dataset}"
    return (
        f"tfds:{dataset} has no config {_shown(config)}; its configs are: "
        f"{', '.join(configs)} (e.g. --data tfds:{dataset}/{configs[0]})"
    )


def _first_line(error: Exception, limit: int = 500) -> str:
    """The first line of an error's message, cut short when long."""
    line = (str(error).strip().splitlines() or [""])[0]
    return line if len(line) <= limit else f"{line[:limit]}..."


def _prepare(builder, spec: DataSpec) -> None:
    """Downloads and prepares a dataset; on failure, removes what it created."""
    root = Path(os.fspath(builder.data_dir_root))
    watched = (builder.name, "downloads")
    before = _snapshot(root, watched)
    try:
        with _few_download_retries():
            builder.download_and_prepare()
    except Exception as error:  # TFDS raises many types; all mean "could not prepare"
        _remove_new_entries(root, before, watched)
        cause = f"{type(error).__name__}: {_first_line(error)}"
        if spec.kind == "bundled":
            raise UserInputError(f"could not prepare {spec}: {cause}") from None
        raise UserInputError(_offline_help(builder, spec, cause)) from None


def _offline_help(builder, spec: DataSpec, cause: str) -> str:
    """The failure, and how to bring a copy prepared elsewhere."""
    config = builder.builder_config
    name = f"{builder.name}/{config.name}" if config else builder.name
    return (
        f"could not download and prepare {spec} ({cause}). To use it here, prepare "
        f"it on a machine with a network, with `tfds build {name}` or this same "
        f"command, then copy the prepared folder {builder.info.full_name} from "
        "that machine's TFDS data folder into TFDS_DATA_DIR here "
        f"({os.fspath(builder.data_dir_root)})"
    )


@contextlib.contextmanager
def _few_download_retries():
    """Bounds TFDS's download retries to `DOWNLOAD_RETRIES` (it reads its
    `downloader.MAX_RETRIES` on every download)."""
    from tensorflow_datasets.core.download import downloader

    saved = downloader.MAX_RETRIES
    downloader.MAX_RETRIES = min(saved, DOWNLOAD_RETRIES)
    try:
        yield
    finally:
        downloader.MAX_RETRIES = saved


def _snapshot(root: Path, names) -> set[Path]:
    """`root` if it exists, and the paths at most 2 levels under `root/<name>`."""
    found = {root} if root.exists() else set()
    for name in names:
        found |= _entries(root / name, depth=2)
    return found


def _entries(path: Path, depth: int) -> set[Path]:
    """`path` if it exists, and the paths under it, at most `depth` levels down."""
    if not path.exists():
        return set()
    found = {path}
    if depth and path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            found |= _entries(child, depth - 1)
    return found


def _remove_new_entries(root: Path, before: set[Path], names) -> None:
    """Removes what appeared under `root/<name>` since the `before` snapshot, and
    `root` itself if it is new and left empty."""
    new = _snapshot(root, names) - before - {root}
    for path in sorted(new):
        if path.parent in new:
            continue  # removed with its new parent
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if root not in before and root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def _tfds_table(builder, split: str, columns: Mapping[str, str]) -> pd.DataFrame:
    import tensorflow_datasets as tfds

    features = builder.info.features
    rows = {name: [] for name in columns}
    for example in tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)):
        for name, source_name in columns.items():
            rows[name].append(_decode(features[source_name], example[source_name]))
    return pd.DataFrame(rows)


def _read_tfds(spec, columns, key, data_dir, hint) -> dict[str, pd.DataFrame]:
    builder = prepared_builder(spec, data_dir)
    _check_columns(list(builder.info.features.keys()), columns, spec, hint)
    available = set(builder.info.splits.keys())

    if "train" not in available:
        raise UserInputError(
            f"{spec} has no train split (it has {', '.join(sorted(available))})"
        )
    given = {
        split: _tfds_table(builder, split, columns)
        for split in SPLITS
        if split in available
    }
    carve = [split for split in ("validation", "test") if split not in given]
    if carve:
        train = given["train"]
        shares = {
            split: (0.1 if split in carve else 0.0) for split in ("validation", "test")
        }
        assignment = (
            train[key].astype(str).map(lambda value: hash_split(value, **shares))
        )
        for split in ["train", *carve]:
            given[split] = train[assignment == split].reset_index(drop=True)
    return given


def _decode(feature, value):
    import tensorflow_datasets as tfds

    if isinstance(feature, tfds.features.ClassLabel):
        return feature.int2str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if getattr(value, "ndim", 0) > 0:  # a sequence feature: a list per row
        return [_decode(feature.feature, item) for item in value]
    return value.item() if hasattr(value, "item") else value
