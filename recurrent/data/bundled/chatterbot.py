"""ChatterBot's English corpus: short scripted conversations by category.

Read from the YAML files of the `chatterbot-corpus` package
(`chatterbot_corpus/data/english/<category>.yml`, github.com/gunthercox/
chatterbot-corpus), without importing the package. Each file lists
conversations, each a list of turns. Every value is read as text (so a turn
`yes` or `1.0` stays that string); a turn written as a list is its items
joined by a space; whitespace is normalised (code in answers loses its line
breaks) and blank turns are dropped.

An example is one turn (`response`) with the turns before it (`context`, at
most `MAX_CONTEXT` = 8, oldest first), the conversation's key
(`<category>/<index in its file>`) and the index of the turn. A conversation
repeated with the same turns is kept once (the corpus repeats many), as is an
example that two conversations share; each conversation is split 80/10/10 by
a hash of its turns, so none is in two splits.

Configs: `all` (default), every category: 960 train, 99 validation and 119
test examples; or one category, e.g. `psychology`: 50 train, 7 validation and
7 test examples. A small category can have no validation or test example;
that split is then left out (`recurrent.data.dialogues` carves it from train).
"""

import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path

import tensorflow_datasets as tfds
import yaml

from recurrent.data.bundled.chitchat import dialogue_features
from recurrent.data.dialogues import SEPARATOR, normalise, turn_examples
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

# The English category files of chatterbot-corpus 1.3.3, by file name.
CATEGORIES = (
    "ai",
    "botprofile",
    "coding",
    "computers",
    "conversations",
    "emotion",
    "food",
    "gossip",
    "greetings",
    "health",
    "history",
    "humor",
    "literature",
    "money",
    "movies",
    "politics",
    "psychology",
    "science",
    "sports",
    "tech_support",
    "trivia",
)


def data_folder() -> Path:
    """The package's English data folder, found without running its `__init__`."""
    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError(
            "the chatterbot data comes from the chatterbot-corpus package; "
            "pip install chatterbot-corpus"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "english"


def _text(value) -> str:
    """A YAML value as one line of text: lists joined, mappings as `key: value`."""
    if isinstance(value, list):
        return " ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return " ".join(f"{_text(k)}: {_text(v)}" for k, v in value.items())
    return normalise(value) if isinstance(value, str) else ""


def read_category(path: Path) -> list[list[str]]:
    """The conversations of one category file, each a list of non-blank turns.

    A conversation that is not a list (a YAML slip in the corpus) is one turn.
    """
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=yaml.BaseLoader) or {}
    conversations = document.get("conversations") or []
    return [
        [turn for turn in map(_text, value) if turn]
        if isinstance(value, list)
        else [_text(value)]
        for value in conversations
    ]


def conversations(
    categories: Iterable[str], folder: Path | None = None
) -> Iterator[tuple[str, list[str]]]:
    """`(key, turns)` of each distinct conversation of `categories`, in order;
    the key is `<category>/<index in its file>`."""
    folder = data_folder() if folder is None else folder
    seen = set()
    for category in categories:
        for index, turns in enumerate(read_category(folder / f"{category}.yml")):
            text = SEPARATOR.join(turns)
            if text in seen:
                continue
            seen.add(text)
            yield f"{category}/{index}", turns


def examples(
    categories: Iterable[str], folder: Path | None = None
) -> dict[str, list[tuple[str, dict]]]:
    """`{split: [(key, example), ...]}`: an example for each turn with a turn
    before it, in the distinct conversations of `categories`, in the split
    of its conversation's turns.

    An example that an earlier conversation already gave (the same context
    and response, e.g. a greeting that opens a longer conversation) is left
    out, so it can not be in two splits.
    """
    seen, splits = set(), {split: [] for split in SPLITS}
    for key, turns in conversations(categories, folder):
        split = hash_split(SEPARATOR.join(turns))
        for index, context, response in turn_examples(turns):
            if (*context, response) in seen:
                continue
            seen.add((*context, response))
            example = {
                "context": context,
                "response": response,
                "conversation": key,
                "turn": index,
            }
            splits[split].append((f"{key}/{index}", example))
    return splits


class ChatterbotConfig(tfds.core.BuilderConfig):
    def __init__(self, *, categories, **kwargs):
        super().__init__(version=tfds.core.Version("1.0.0"), **kwargs)
        self.categories = tuple(categories)


class Chatterbot(tfds.core.GeneratorBasedBuilder):
    """ChatterBot's scripted English conversations, all or one category."""

    BUILDER_CONFIGS = [
        ChatterbotConfig(
            name="all", categories=CATEGORIES, description="every category"
        ),
        *[
            ChatterbotConfig(
                name=category, categories=(category,), description=category
            )
            for category in CATEGORIES
        ],
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=dialogue_features(),
            supervised_keys=("context", "response"),
            homepage="https://github.com/gunthercox/chatterbot-corpus",
            citation="Cox, ChatterBot Language Training Corpus, 2016.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        splits = examples(self.builder_config.categories)
        # TFDS refuses an empty split, which a small category can have.
        return {
            split: self._generate_examples(rows)
            for split, rows in splits.items()
            if rows
        }

    def _generate_examples(self, rows):
        yield from rows
