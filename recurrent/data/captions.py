"""Loads image-caption data into train/validation/test tables.

A spec is one of
- `openmoji[/<config>]`, the bundled OpenMoji images (`names`, the default,
  `names_32`, `names_128`, `scenes`, `scenes_128`);
- `tfds:<name>`, a TFDS dataset with an image feature and a text feature, e.g.
  `tfds:coco_captions` (its `captions/text`; its `restval` split joins `train`,
  as in Karpathy and Li's split, and `val` is the validation split);
- a Flickr8k-style folder: images and a captions file, either Flickr8k's
  `Flickr8k.token.txt` (`IMAGE#N<TAB>caption` lines) or a `captions.txt` CSV
  with the columns `image,caption` (Kaggle's copy). The split lists
  `Flickr_8k.trainImages.txt`, `Flickr_8k.devImages.txt` and
  `Flickr_8k.testImages.txt` are honoured when present; otherwise images are
  split by a hash of their file name. Images may sit in the folder itself or in
  `Images/` or `Flicker8k_Dataset/`; text files in it or in `Flickr8k_text/`;
- a `.csv`, `.tsv` or `.jsonl` file with a column of image paths (relative to
  the file's folder) and a column of captions; the rows of one image are its
  references. A `split` column is honoured; otherwise images are split by a
  hash of their path.

With the default `caption_column="caption"`, a source with no `caption` column
but a `captions` one (as the bundled OpenMoji and TFDS's coco_captions have) is
read from that one; of a nested feature such as coco_captions' `captions`
(`{"id", "text"}` per caption), its only text field is read.

Every table has one row per image: `image` (the bytes of the image file: PNG,
JPEG, GIF or BMP as stored; see `recurrent.data.images.decode_images`),
`captions` (its references, each non-blank), `objects` (names of the objects
in it) and `boxes` (`[x0, y0, x1, y1]` per object, as fractions of the image
size); the last two are empty lists where the source has none. Every image
file is read into memory: fine for Flickr8k (about 1 GB), not for all of COCO
(about 19 GB).
"""

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from recurrent.data.bundled import BUILDERS
from recurrent.data.images import read_image_file
from recurrent.data.sources import (
    FILE_READERS,
    ONLY_EMPTY_IS_MISSING,
    DataSpec,
    parse_spec,
    prepared_builder,
    read_file,
)
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

COLUMNS = ("image", "captions", "objects", "boxes")
DEFAULT_CAPTION = "caption"  # when missing, DEFAULT_CAPTIONS is read if there
DEFAULT_CAPTIONS = "captions"
TOKEN_FILE = "Flickr8k.token.txt"
CSV_FILE = "captions.txt"
CAPTION_FILES = (TOKEN_FILE, CSV_FILE)
TEXT_FOLDERS = ("", "Flickr8k_text")
IMAGE_FOLDERS = ("", "Images", "Flicker8k_Dataset", "Flickr8k_Dataset")
SPLIT_LISTS = {
    "train": "Flickr_8k.trainImages.txt",
    "validation": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
# The TFDS splits read into each of ours, e.g. coco_captions' train + restval.
TFDS_SPLITS = {
    "train": ("train", "restval"),
    "validation": ("validation", "val"),
    "test": ("test",),
}
SHOWN = 3  # how many missing images a message names
SPEC_FORMS = (
    "openmoji[/<config>], tfds:<name> (e.g. tfds:coco_captions), a Flickr8k-style "
    f"folder (images and {CSV_FILE} or {TOKEN_FILE}), or a .csv or .jsonl file "
    "of image paths and captions"
)


def load_caption_splits(
    spec: str | DataSpec,
    *,
    image_column: str = "image",
    caption_column: str = DEFAULT_CAPTION,
    data_dir: str | None = None,
    hint: str = "",
) -> dict[str, pd.DataFrame]:
    """Loads the train/validation/test tables of an image-caption data spec.

    Args:
        spec: the `--data` value (see the module docstring).
        image_column: the column (or TFDS feature) holding image paths or
            images.
        caption_column: the column (or TFDS feature) holding captions, one or
            a list per row; a nested TFDS feature is named by its path, e.g.
            `captions/text`.
        data_dir: TFDS data directory (default: TFDS's own).
        hint: appended to a missing-column error, e.g. which `--set` keys
            name the columns.

    Returns:
        `{"train": frame, "validation": frame, "test": frame}`, each with the
        columns `image`, `captions`, `objects` and `boxes`, one row per image.

    Raises:
        UserInputError: the source is missing, has no captions file or column,
            names no existing image, or has no training rows.
    """
    data = spec if isinstance(spec, DataSpec) else _parse(spec)
    columns = (image_column, caption_column, hint)
    if data.kind == "folder":
        folder = Path(data.name)
        splits = _read_captions_file(_captions_file(folder), folder, *columns)
    elif data.kind == "file":
        splits = _read_table_file(Path(data.name), *columns)
    else:
        splits = _read_tfds(data, *columns, data_dir)
    if splits["train"].empty:
        raise UserInputError(
            f"{data} has no training images; add images with captions, or "
            "give some the split train"
        )
    return splits


def _parse(spec: str) -> DataSpec:
    """`parse_spec`, with a missing path answered by the forms this loader reads."""
    text = spec.strip()
    if not text.startswith("tfds:") and text.partition("/")[0] not in BUILDERS:
        path = Path(text).expanduser()
        if not path.exists():
            raise UserInputError(
                f"no file or folder {text!r}; pass --data with {SPEC_FORMS}"
            )
    return parse_spec(text)


def _table(rows: Iterable[tuple]) -> pd.DataFrame:
    """A table of `(image, captions, objects, boxes)` rows."""
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def _count(number: int, noun: str) -> str:
    """E.g. "1 image", "8,091 images"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _captions(value) -> list[str]:
    """The non-blank captions of a cell: one string, or a list of them."""
    values = value if isinstance(value, list | tuple) else [value]
    texts = [_text(item) for item in values]
    return [text.strip() for text in texts if text.strip()]


def _text(value) -> str:
    """A caption cell as text; a missing value is empty."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None or value != value else str(value)  # NaN != NaN


# Folders and caption files.


def _captions_file(folder: Path) -> Path:
    """The captions file of a Flickr8k-style folder."""
    for name in CAPTION_FILES:
        for subfolder in TEXT_FOLDERS:
            path = folder / subfolder / name
            if path.is_file():
                return path
    raise UserInputError(
        f"folder {str(folder)!r} has no captions file; put {CSV_FILE} (a CSV "
        f"with the columns image,caption) or {TOKEN_FILE} (IMAGE#N<TAB>caption "
        f"lines) in it or in {TEXT_FOLDERS[1]}/, or pass --data a .csv or .jsonl "
        "file of image paths and captions"
    )


def _read_captions_file(path: Path, folder: Path, image_column, caption_column, hint):
    """A Flickr8k-style captions file, its images in `folder` or a subfolder."""
    if path.name == TOKEN_FILE:
        pairs = _token_pairs(path)
    else:
        frame = _read_csv(path)
        image, caption = _columns(frame, image_column, caption_column, path, hint)
        pairs = zip(frame[image], frame[caption], strict=True)
    grouped = _grouped(pairs, path)
    images = _image_folder(folder, list(grouped))
    where = ", ".join(str(folder / name) for name in IMAGE_FOLDERS)
    found = _existing(grouped, lambda name: images / name, path, where)
    split_of = _listed_splits(path.parent, list(found))
    kept = [name for name in found if name in split_of]
    print(f"reading {_count(len(kept), 'image')} from {images}")
    rows = {split: [] for split in SPLITS}
    readable = _readable({name: images / name for name in kept}, folder)
    for name, image in readable.items():
        rows[split_of[name]].append((image, found[name], [], []))
    return {split: _table(rows[split]) for split in SPLITS}


def _token_pairs(path: Path) -> list[tuple[str, str]]:
    """(image, caption) of each `IMAGE#N<TAB>caption` line."""
    pairs = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        reference, tab, caption = line.partition("\t")
        if not tab:
            raise UserInputError(
                f"line {number} of {str(path)!r} is not IMAGE#N<TAB>caption: "
                f"{line[:80]!r}"
            )
        pairs.append((reference.rpartition("#")[0] or reference, caption))
    if not pairs:
        raise UserInputError(f"{str(path)!r} holds no captions; add data to it")
    return pairs


def _read_csv(path: Path) -> pd.DataFrame:
    """A comma-separated captions file (Kaggle's Flickr8k `captions.txt`)."""
    try:
        frame = pd.read_csv(path, **ONLY_EMPTY_IS_MISSING)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise UserInputError(f"cannot parse {str(path)!r}: {error}") from None
    if frame.empty:
        raise UserInputError(f"{str(path)!r} holds no rows; add data to it")
    return frame


def _columns(frame: pd.DataFrame, image_column, caption_column, source, hint):
    """The image and caption column names in `frame`, checked."""
    available = [str(column) for column in frame.columns]
    if caption_column == DEFAULT_CAPTION and caption_column not in available:
        caption_column = (
            DEFAULT_CAPTIONS if DEFAULT_CAPTIONS in available else caption_column
        )
    missing = [c for c in (image_column, caption_column) if c not in available]
    if missing:
        raise UserInputError(
            f"{str(source)!r} has no column {', '.join(map(repr, missing))}; its "
            f"columns are {', '.join(map(repr, available))}. Name them with "
            f"--set image_column=NAME caption_column=NAME. {hint}".strip()
        )
    return image_column, caption_column


def _grouped(pairs, source) -> dict[str, list[str]]:
    """Each image's captions, in the order of the rows; blank ones are dropped."""
    grouped, blank = {}, 0
    for image, caption in pairs:
        captions = _captions(caption)
        name = image.strip() if isinstance(image, str) else ""
        blank += not (name and captions)
        if name and captions:
            grouped.setdefault(name, []).extend(captions)
    if blank:
        print(
            f"{source}: dropped {_count(blank, 'row')} with an empty image or caption"
        )
    return grouped


def _image_folder(folder: Path, names: list[str]) -> Path:
    """The one of `IMAGE_FOLDERS` holding the most of the images `names`."""
    wanted = set(names)

    def found(candidate: Path) -> int:
        if not candidate.is_dir():
            return 0
        return sum(entry.name in wanted for entry in candidate.iterdir())

    return max((folder / name for name in IMAGE_FOLDERS), key=found)


def _existing(grouped: dict, path_of, source: Path, where: str) -> dict:
    """The entries of `grouped` whose image file exists; the others are
    reported, or refused when none exists."""
    missing = [name for name in grouped if not path_of(name).is_file()]
    if not missing:
        return grouped
    examples = ", ".join(repr(name) for name in missing[:SHOWN])
    if len(missing) == len(grouped):
        raise UserInputError(
            f"none of the {len(missing):,} images {str(source)!r} names exist (e.g. "
            f"{examples}, looked for in {where}); put the images there, or fix "
            "their paths"
        )
    print(
        f"{source}: left out {len(missing):,} of {len(grouped):,} images that do "
        f"not exist (e.g. {examples})"
    )
    return {name: captions for name, captions in grouped.items() if name not in missing}


def _listed_splits(folder: Path, names: list[str]) -> dict[str, str]:
    """Image name -> split, from Flickr8k's split lists, or by a hash of the name.

    Where the lists exist, an image in none of them is left out (Flickr8k lists
    8,000 of its 8,091 images)."""
    lists = {}
    for split, file_name in SPLIT_LISTS.items():
        for subfolder in TEXT_FOLDERS:
            path = folder / subfolder / file_name
            if path.is_file() and split not in lists:
                lines = path.read_text(encoding="utf-8").split()
                lists[split] = set(lines)
    if not lists:
        return {name: hash_split(name) for name in names}
    split_of = {name: split for split, listed in lists.items() for name in listed}
    unlisted = sum(name not in split_of for name in names)
    if unlisted:
        print(f"{folder}: left out {_count(unlisted, 'image')} in no split list")
    return split_of


# Tables of image paths and captions.


def _read_table_file(path: Path, image_column, caption_column, hint):
    """A .csv, .tsv or .jsonl file of image paths and captions."""
    if path.name in CAPTION_FILES:  # a Flickr8k captions file named directly
        return _read_captions_file(
            path, path.parent, image_column, caption_column, hint
        )
    if path.suffix.lower() not in FILE_READERS:
        raise UserInputError(f"cannot read {str(path)!r}; pass {SPEC_FORMS}")
    frame = read_file(path, text=True)
    image, caption = _columns(frame, image_column, caption_column, path, hint)
    grouped = _grouped(zip(frame[image], frame[caption], strict=True), path)
    split_of = _split_column(frame, image, path) if "split" in frame.columns else {}
    found = _existing(
        grouped,
        lambda name: path.parent / name,
        path,
        f"{path.parent} (paths are relative to it)",
    )
    print(f"reading {_count(len(found), 'image')} listed in {path}")
    rows = {split: [] for split in SPLITS}
    readable = _readable({name: path.parent / name for name in found}, path)
    for name, image_bytes in readable.items():
        split = split_of.get(name) or hash_split(name)
        rows[split].append((image_bytes, found[name], [], []))
    return {split: _table(rows[split]) for split in SPLITS}


def _readable(paths: dict[str, Path], source: Path) -> dict[str, bytes]:
    """Each image file as `read_image_file` reads what `predict` is given
    (turned upright, converted where the graph's decoders would not read it
    as Pillow does), leaving out, with a count and the first reasons, those
    it refuses (empty, damaged, not an image, too large)."""
    readable, refused = {}, []
    for name, path in paths.items():
        try:
            readable[name] = read_image_file(path)
        except UserInputError as error:
            refused.append(str(error))
    if refused:
        print(
            f"{source}: left out {_count(len(refused), 'image')} that cannot be "
            f"read, e.g. {'; '.join(refused[:SHOWN])}"
        )
    return readable


def _split_column(frame: pd.DataFrame, image: str, source: Path) -> dict[str, str]:
    """Image path -> its rows' split; every row of an image must agree."""
    split_of = {}
    for name, value in zip(frame[image], frame["split"], strict=True):
        split = str(value).strip().lower()
        if split not in SPLITS:
            raise UserInputError(
                f"{str(source)!r}: unknown split value {value!r}; use train, "
                "validation, test"
            )
        name = name.strip() if isinstance(name, str) else name
        if split_of.setdefault(name, split) != split:
            raise UserInputError(
                f"{str(source)!r}: image {name!r} has rows in the splits "
                f"{split_of[name]} and {split}; give all its rows one split"
            )
    return split_of


# TFDS datasets.


def _read_tfds(data: DataSpec, image_column, caption_column, hint, data_dir):
    import tensorflow_datasets as tfds

    builder = prepared_builder(data, data_dir)
    features = builder.info.features
    caption_column = _caption_feature(
        features, image_column, caption_column, data, hint
    )
    available = set(builder.info.splits.keys())
    if "train" not in available:
        raise UserInputError(
            f"{data} has no train split (it has {', '.join(sorted(available))})"
        )
    decoders = _nested(image_column, tfds.decode.SkipDecoding())
    total = sum(builder.info.splits[name].num_examples for name in available)
    print(f"reading {total:,} images of {data}")
    given = {}
    for split, names in TFDS_SPLITS.items():
        frames = [
            _tfds_rows(builder, name, decoders, image_column, caption_column)
            for name in names
            if name in available
        ]
        if frames:
            given[split] = pd.concat(frames, ignore_index=True)
    return _carved(given)


def _caption_feature(features, image_column, caption_column, data, hint) -> str:
    """The path of the caption text feature, checked with the image feature."""
    import tensorflow_datasets as tfds

    names = _feature_names(features)
    if (
        caption_column == DEFAULT_CAPTION
        and _feature(features, caption_column) is None
        and _feature(features, DEFAULT_CAPTIONS) is not None
    ):
        caption_column = DEFAULT_CAPTIONS
    image = _feature(features, image_column)
    caption = _feature(features, caption_column)
    caption = _text_field(caption, caption_column)
    if not isinstance(image, tfds.features.Image) or caption is None:
        texts = sorted(
            (n for n in names if _is_text(_feature(features, n))),
            key=lambda name: ("caption" not in name, name),
        )
        images = [
            n for n in names if isinstance(_feature(features, n), tfds.features.Image)
        ]
        what = "image" if not isinstance(image, tfds.features.Image) else "caption"
        wrong = image_column if what == "image" else caption_column
        raise UserInputError(
            f"{data} has no {what} column {wrong!r}; its image columns are "
            f"{', '.join(map(repr, images)) or 'none'} and its text columns "
            f"{', '.join(map(repr, texts)) or 'none'}. Name them with --set "
            f"image_column=NAME caption_column=NAME (e.g. caption_column="
            f"{(texts or ['NAME'])[0]}). {hint}".strip()
        )
    return caption


def _text_field(feature, path: str) -> str | None:
    """The path of the text in `feature`: itself, or its only text field."""
    import tensorflow_datasets as tfds

    while isinstance(feature, tfds.features.Sequence):
        feature = feature.feature
    if _is_text(feature):
        return path
    if isinstance(feature, tfds.features.FeaturesDict):
        texts = [key for key in feature if _text_field(feature[key], key) is not None]
        if len(texts) == 1:
            return _text_field(feature[texts[0]], f"{path}/{texts[0]}")
    return None


def _is_text(feature) -> bool:
    """Whether a TFDS feature holds one string (`Text`, or a string `Tensor`)."""
    import tensorflow_datasets as tfds

    return (
        isinstance(feature, tfds.features.Tensor)
        and feature.dtype == "string"
        and not feature.shape
    )


def _feature_names(feature, prefix: str = "") -> list[str]:
    """The paths of every leaf feature, e.g. "captions/text"."""
    import tensorflow_datasets as tfds

    while isinstance(feature, tfds.features.Sequence):
        feature = feature.feature
    if not isinstance(feature, tfds.features.FeaturesDict):
        return [prefix]
    names = []
    for key in feature:
        names += _feature_names(feature[key], f"{prefix}/{key}" if prefix else key)
    return names


def _feature(feature, path: str):
    """The feature at `path` ("a/b" is key "a/b", or key "b" inside "a"), or None."""
    return _at(feature, path, _children)


def _children(feature):
    import tensorflow_datasets as tfds

    while isinstance(feature, tfds.features.Sequence):
        feature = feature.feature
    return feature if isinstance(feature, tfds.features.FeaturesDict) else {}


def _at(value, path: str, children):
    """The value at `path` in nested mappings; keys may themselves hold "/"."""
    mapping = children(value)
    if path in mapping:
        return mapping[path]
    head, slash, rest = path.partition("/")
    while slash:
        if head in mapping:
            found = _at(mapping[head], rest, children)
            if found is not None:
                return found
        more, slash, rest = rest.partition("/")
        head = f"{head}/{more}"
    return None


def _nested(path: str, value) -> dict:
    """`{"a": {"b": value}}` for "a/b", as TFDS decoders are given."""
    head, slash, rest = path.partition("/")
    return {head: _nested(rest, value)} if slash else {path: value}


def _tfds_rows(builder, split: str, decoders, image_column, caption_column):
    import tensorflow_datasets as tfds

    dataset = builder.as_dataset(split=split, shuffle_files=False, decoders=decoders)
    rows, blank = [], 0
    for example in tfds.as_numpy(dataset):
        image = _at(example, image_column, _mapping)
        captions = _captions(_leaf(_at(example, caption_column, _mapping)))
        blank += not captions
        if captions:
            rows.append((image, captions, *_objects(example, builder.info.features)))
    if blank:
        print(
            f"{builder.name} {split}: dropped {_count(blank, 'image')} without a caption"
        )
    return _table(rows)


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _leaf(value):
    """A numpy value as Python: bytes, or a list of them."""
    return value.tolist() if hasattr(value, "tolist") else value


def _objects(example: dict, features) -> tuple[list, list]:
    """(names, [x0, y0, x1, y1] boxes) of the objects of an example, if any:
    this project's `objects` + `boxes` features, or TFDS's detection layout
    (`objects/label` ClassLabel and `objects/bbox` BBox)."""
    import tensorflow_datasets as tfds

    if "objects" not in features or not isinstance(
        features["objects"], tfds.features.Sequence
    ):
        return [], []
    objects = features["objects"].feature
    if _is_text(objects) and "boxes" in features:
        names = [name.decode() for name in example["objects"]]
        return names, example["boxes"].astype(float).tolist()
    if isinstance(objects, tfds.features.FeaturesDict) and {"label", "bbox"} <= set(
        objects.keys()
    ):
        label = objects["label"]
        names = [label.int2str(int(index)) for index in example["objects"]["label"]]
        boxes = example["objects"]["bbox"].astype(float)  # ymin, xmin, ymax, xmax
        return names, boxes[:, [1, 0, 3, 2]].tolist()
    return [], []


def _carved(given: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Missing validation/test splits taken from train by a hash of each image."""
    carve = [split for split in ("validation", "test") if split not in given]
    if not carve:
        return given
    train = given["train"]
    shares = {split: 0.1 if split in carve else 0.0 for split in ("validation", "test")}
    assignment = train["image"].map(
        lambda image: hash_split(hashlib.sha256(image).hexdigest(), **shares)
    )
    for split in ["train", *carve]:
        given[split] = train[assignment == split].reset_index(drop=True)
    return given
