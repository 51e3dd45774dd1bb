"""Dialogue data: (context, response) examples from conversations, in splits.

A conversation is a list of turns. Each turn after the first is the
`response` to the turns before it, its `context` (oldest first, at most
`MAX_CONTEXT` of them). `load_dialogue_splits` reads
- a bundled dataset: `chitchat`, `chatterbot` or `chatterbot/<category>`;
- `tfds:<name>[/<config>]`, any TFDS dataset with a `context` (sequence of
  text) and a `response` (text) feature;
- a `.jsonl` file, one conversation per line: a JSON list of turns, or an
  object `{"id": ..., "turns": [...]}` (the id is optional);
- a `.tsv` (or tab-separated `.txt`) file of pairs, one per line: the context
  turns, oldest first, then the response, separated by tabs. A first line
  `context<TAB>response` is a header.

A file is split 80/10/10 by a hash of each conversation (its id, or else its
text; for a `.tsv`, the line), so no conversation is in two splits; a TFDS
dataset's own splits are kept, and a missing validation or test split is
carved from train by a hash of the conversation (or of the context).
"""

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from recurrent.data.bundled import BUILDERS, builder_class
from recurrent.data.sources import parse_spec, prepared_builder
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

# The most turns before a response that an example keeps as its context.
MAX_CONTEXT = 8
# The separator of turns in a history string (one string holding a context),
# as the exported model and the chat read it. Turns never contain it: their
# whitespace is normalised to single spaces.
SEPARATOR = "\n"
COLUMNS = ("context", "response", "conversation")
# Joins the turns of a context while a TFDS dataset is read in batches.
UNIT = "\x1f"
FILE_FORMS = {
    ".jsonl": "one conversation per line, a JSON list of turns",
    ".tsv": "context turns then the response, tab-separated",
    ".txt": "tab-separated, as .tsv",
}
JSONL_FORM = (
    'each line must be a JSON list of turn strings, or an object with a "turns" '
    'list of strings (and optionally an "id"), e.g. ["Hi!", "Hello, how are you?"]'
)
HEADER = ("context", "response")


def normalise(text: str) -> str:
    """`text` with each run of whitespace (newlines included) as one space."""
    return " ".join(text.split())


def _kept(turns: Iterable[str]) -> list[str]:
    return [turn for turn in map(normalise, turns) if turn]


def turn_examples(
    turns: Iterable[str], max_context: int = MAX_CONTEXT
) -> Iterator[tuple[int, list[str], str]]:
    """The examples of one conversation, as `(index, context, response)`.

    Turns are normalised and blank ones dropped first; `index` counts the
    remaining turns, so the first example has index 1. `context` holds the
    `max_context` turns before the response, oldest first.
    """
    kept = _kept(turns)
    for index in range(1, len(kept)):
        yield index, kept[max(0, index - max_context) : index], kept[index]


def load_dialogue_splits(
    data: str, data_dir: str | None = None
) -> dict[str, pd.DataFrame]:
    """Loads the train/validation/test examples of a dialogue data spec.

    Args:
        data: the `--data` value (see the module docstring for its forms).
        data_dir: TFDS data directory (default: `TFDS_DATA_DIR` or TFDS's own).

    Returns:
        `{"train": frame, "validation": frame, "test": frame}`, each with the
        columns `context` (a list of at least one turn, oldest first),
        `response` (a string) and `conversation` (the conversation's id).

    Raises:
        UserInputError: the spec names no usable source, or a file is
            malformed or holds no example.
    """
    spec = data.strip()
    if spec.startswith("tfds:") or spec.partition("/")[0] in BUILDERS:
        splits, read = _tfds_splits(spec, data_dir)
    else:
        path = _data_file(spec)
        read_rows = _read_jsonl if path.suffix.lower() == ".jsonl" else _read_tsv
        rows, read = read_rows(path, _text(path))
        splits = _split_rows(rows, path)
    if not any(len(frame) for frame in splits.values()):
        raise UserInputError(f"{spec} holds no dialogue examples; add conversations")
    counts = ", ".join(f"{split} {len(splits[split]):,}" for split in SPLITS)
    total = sum(len(frame) for frame in splits.values())
    print(f"{spec}: {_plural(total, 'example')} ({counts}) from {read}")
    if len(splits["train"]) == 0:
        raise UserInputError(
            f"{spec} has no training examples (every conversation fell in "
            "validation or test); add more conversations"
        )
    return splits


def _tfds_splits(spec: str, data_dir: str | None) -> tuple[dict, str]:
    """A bundled or TFDS dataset's splits, with contexts cleaned and capped,
    and what was read and skipped. A missing validation or test split is
    carved from train by a hash of the conversation (or of the context)."""
    parsed = parse_spec(spec)
    if parsed.kind == "bundled":
        _check_config(parsed.name)
    builder = prepared_builder(parsed, data_dir)
    named = _check_features(builder.info.features, parsed)
    available = set(builder.info.splits.keys())
    if "train" not in available:
        raise UserInputError(
            f"{parsed} has no train split (it has {', '.join(sorted(available))})"
        )
    given = {
        split: _read_split(builder, split, named)
        for split in SPLITS
        if split in available
    }
    carve = [split for split in ("validation", "test") if split not in given]
    if carve:
        shares = {
            name: 0.1 if name in carve else 0.0 for name in ("validation", "test")
        }
        train = given["train"]
        given.update({name: [] for name in ["train", *carve]})
        for row in train:
            key = row[2] if named else SEPARATOR.join(row[0])
            given[hash_split(key, **shares)].append(row)
    splits, read, skipped = {}, 0, 0
    for split in SPLITS:
        rows = []
        for index, (context, response, conversation) in enumerate(given[split]):
            read += 1
            context, response = _kept(context), normalise(response)
            if not (context and response):
                skipped += 1
                continue
            conversation = conversation if named else f"{split}-{index}"
            rows.append((context[-MAX_CONTEXT:], response, conversation))
        splits[split] = pd.DataFrame(rows, columns=list(COLUMNS))
    blank = _plural(skipped, "example") + " with a blank context or response"
    return splits, f"{_plural(read, 'example')}; skipped {blank}"


def _check_config(spec: str) -> None:
    """Checks the config of a bundled `name/config` spec, naming the valid ones."""
    name, _, config = spec.partition("/")
    configs = [c.name for c in builder_class(name).BUILDER_CONFIGS]
    if config and config not in configs:
        valid = ", ".join(f"{name}/{c}" for c in configs) or name
        raise UserInputError(f"unknown dialogue data {spec!r}; use one of: {valid}")


def _check_features(features, spec) -> bool:
    """Checks a TFDS dataset's dialogue features; True if it has `conversation`."""
    import tensorflow_datasets as tfds

    available = list(features.keys())
    text = tfds.features.Text
    context = features["context"] if "context" in available else None
    response = features["response"] if "response" in available else None
    if not (
        isinstance(context, tfds.features.Sequence)
        and isinstance(context.feature, text)
        and isinstance(response, text)
    ):
        raise UserInputError(
            f"{spec} is not a dialogue dataset: it needs a 'context' feature (a "
            "sequence of text, the turns before the response) and a 'response' "
            f"feature (text), as chitchat and chatterbot have; its features are "
            f"{', '.join(map(repr, available))}"
        )
    return "conversation" in available


def _read_split(builder, split: str, named: bool) -> list[tuple]:
    """`(context, response, conversation)` of each example of a TFDS split.

    Examples are read in batches, each context joined in the graph, which is
    several times faster than decoding examples one at a time.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    def flat(example):
        conversation = example["conversation"] if named else example["response"]
        if conversation.dtype != tf.string:
            conversation = tf.strings.as_string(conversation)
        return (
            tf.strings.reduce_join(example["context"], separator=UNIT),
            example["response"],
            conversation,
        )

    dataset = builder.as_dataset(split=split, shuffle_files=False)
    dataset = dataset.map(flat, num_parallel_calls=tf.data.AUTOTUNE).batch(4096)
    rows = []
    for contexts, responses, conversations in tfds.as_numpy(dataset):
        rows += [
            (context.decode().split(UNIT), response.decode(), conversation.decode())
            for context, response, conversation in zip(
                contexts, responses, conversations, strict=True
            )
        ]
    return rows


def _data_file(spec: str) -> Path:
    """The path of a dialogue file, checked to exist and to have a known suffix."""
    path = Path(spec).expanduser()
    forms = "; ".join(f"{suffix} ({form})" for suffix, form in FILE_FORMS.items())
    bundled = "chitchat, chatterbot, chatterbot/<category>"
    if path.suffix.lower() not in FILE_FORMS:
        raise UserInputError(
            f"cannot read dialogues from {spec!r}: pass {bundled}, "
            f"tfds:<name>, or a file ending in {forms}"
        )
    if not path.is_file():
        raise UserInputError(
            f"dialogue file {spec!r} not found; pass an existing {path.suffix} "
            f"file, or {bundled} or tfds:<name>"
        )
    return path


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserInputError(
            f"{str(path)!r} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None


def _read_jsonl(path: Path, text: str) -> tuple[list[tuple], str]:
    """Rows `(context, response, conversation, split key)` of a JSONL file."""
    rows, conversations, short = [], 0, 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        turns, key = _conversation(line, number, path)
        conversations += 1
        examples = list(turn_examples(turns))
        if not examples:
            short += 1
        conversation = key if key is not None else f"line-{number}"
        split_key = key if key is not None else SEPARATOR.join(_kept(turns))
        rows += [
            (context, response, conversation, split_key)
            for _, context, response in examples
        ]
    skipped = _plural(short, "conversation") + " with fewer than 2 non-blank turns"
    return rows, f"{_plural(conversations, 'conversation')}; skipped {skipped}"


def _conversation(line: str, number: int, path: Path) -> tuple[list[str], str | None]:
    """The turns and id (or None) of one JSONL line."""
    problem = f"line {number} of {str(path)!r}"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise UserInputError(
            f"{problem} is not JSON ({error.msg}); {JSONL_FORM}"
        ) from None
    key = None
    if isinstance(value, dict):
        key = value.get("id")
        if key is not None and not isinstance(key, str | int):
            raise UserInputError(f'{problem}: its "id" must be a string or a number')
        key = None if key is None else str(key)
        value = value.get("turns")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise UserInputError(f"{problem} is not a list of strings; {JSONL_FORM}")
    return value, key


def _read_tsv(path: Path, text: str) -> tuple[list[tuple], str]:
    """Rows `(context, response, conversation, split key)` of a tab-separated file."""
    rows, lines, skipped = [], 0, 0
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and tuple(f.strip().lower() for f in fields) == HEADER:
            continue
        if len(fields) < 2:
            raise UserInputError(
                f"line {number} of {str(path)!r} has one field; each line needs "
                "the context turns and then the response, separated by tabs"
            )
        lines += 1
        context = [turn for turn in map(normalise, fields[:-1]) if turn]
        response = normalise(fields[-1])
        if not context or not response:
            skipped += 1
            continue
        rows.append((context[-MAX_CONTEXT:], response, f"line-{number}", line))
    blank = _plural(skipped, "line") + " with a blank context or response"
    return rows, f"{_plural(lines, 'line')}; skipped {blank}"


def _split_rows(rows: list[tuple], source: Path) -> dict[str, pd.DataFrame]:
    if not rows:
        raise UserInputError(
            f"{str(source)!r} holds no usable example: a conversation needs two "
            "non-blank turns, a tab-separated line a non-blank context and response"
        )
    assignment = {key: hash_split(key) for *_, key in rows}
    return {
        split: pd.DataFrame(
            [row[:3] for row in rows if assignment[row[3]] == split],
            columns=list(COLUMNS),
        )
        for split in SPLITS
    }


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
