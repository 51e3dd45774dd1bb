"""Chit-Chat: 7,168 real conversations between people, from `chitchat-dataset`.

The Chit-Chat Challenge dataset (BYU-PCCL, github.com/BYU-PCCL/chitchat-dataset)
was collected by pairing two people in a chat about a prompt. The package
ships it as `chitchat_dataset/dataset.json`; it is read without importing the
package. A turn is what one person wrote before the other replied: the texts
of its messages joined with a space, whitespace normalised; blank turns are
dropped.

An example is one turn (`response`) with the turns before it (`context`, at
most `MAX_CONTEXT` = 8, oldest first), the conversation's id and the index of
the turn; every turn but the first of a conversation gives one. Conversations
are split 80/10/10 by a hash of their id, so none is in two splits: 106,379
train, 12,075 validation and 13,103 test examples.
"""

import importlib.util
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from recurrent.data.dialogues import turn_examples
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError


def dataset_path() -> Path:
    """The package's `dataset.json`, found without running its `__init__`."""
    spec = importlib.util.find_spec("chitchat_dataset")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError(
            "the chitchat data comes from the chitchat-dataset package; "
            "pip install chitchat-dataset"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "dataset.json"


def turns(conversation: Mapping) -> list[str]:
    """The turns of one conversation: each turn's message texts joined by a space."""
    return [
        " ".join(message["text"] for message in turn)
        for turn in conversation["messages"]
    ]


def examples(conversations: Mapping[str, Mapping], split: str) -> Iterator:
    """`(key, example)` for each turn with a turn before it, in conversations
    whose id falls in `split`."""
    for conversation_id, conversation in conversations.items():
        if hash_split(conversation_id) != split:
            continue
        for index, context, response in turn_examples(turns(conversation)):
            yield (
                f"{conversation_id}/{index}",
                {
                    "context": context,
                    "response": response,
                    "conversation": conversation_id,
                    "turn": index,
                },
            )


def dialogue_features() -> tfds.features.FeaturesDict:
    """The features of a dialogue example: the turns before it, the turn
    (response), the conversation's id and the turn's index in it."""
    return tfds.features.FeaturesDict(
        {
            "context": tfds.features.Sequence(tfds.features.Text()),
            "response": tfds.features.Text(),
            "conversation": tfds.features.Text(),
            "turn": tfds.features.Scalar(np.int32),
        }
    )


class Chitchat(tfds.core.GeneratorBasedBuilder):
    """Turns of human chit-chat with the turns before them."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Up to 8 turns of context; hash split by conversation."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=dialogue_features(),
            supervised_keys=("context", "response"),
            homepage="https://github.com/BYU-PCCL/chitchat-dataset",
            citation="BYU-PCCL, Chit-Chat Challenge dataset, 2018.",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        conversations = json.loads(dataset_path().read_text(encoding="utf-8"))
        return {
            split: self._generate_examples(conversations, split) for split in SPLITS
        }

    def _generate_examples(self, conversations, split):
        yield from examples(conversations, split)
