import json
from collections import Counter

import pytest

from recurrent.data.bundled import chitchat
from recurrent.data.dialogues import MAX_CONTEXT, load_dialogue_splits
from recurrent.data.splits import SPLITS, hash_split


@pytest.fixture(scope="module")
def conversations():
    return json.loads(chitchat.dataset_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def examples(conversations):
    return {
        split: [example for _, example in chitchat.examples(conversations, split)]
        for split in SPLITS
    }


def _turns(conversation):
    """The non-blank turns of a conversation, computed here independently."""
    texts = [" ".join(m["text"] for m in turn) for turn in conversation["messages"]]
    return [" ".join(text.split()) for text in texts if text.strip()]


def test_every_turn_with_a_turn_before_it_is_one_example(conversations, examples):
    assert len(conversations) == 7168
    expected = Counter()
    for key, conversation in conversations.items():
        expected[hash_split(key)] += max(len(_turns(conversation)) - 1, 0)
    assert {split: len(rows) for split, rows in examples.items()} == expected
    # The counts the builder's docstring gives.
    assert dict(expected) == {"train": 106379, "validation": 12075, "test": 13103}


def test_no_conversation_is_in_two_splits(examples):
    ids = {
        split: {row["conversation"] for row in rows} for split, rows in examples.items()
    }
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]


def test_the_context_is_the_previous_turns_oldest_first_at_most_eight(
    conversations, examples
):
    lengths = Counter(len(row["context"]) for row in examples["train"])
    assert min(lengths) == 1 and max(lengths) == MAX_CONTEXT
    for row in examples["test"][:2000]:
        turns = _turns(conversations[row["conversation"]])
        index = row["turn"]
        assert row["response"] == turns[index]
        assert row["context"] == turns[max(0, index - MAX_CONTEXT) : index]
        assert all(turn and "\n" not in turn for turn in row["context"])


def test_a_turn_joins_its_messages_and_blank_turns_are_dropped():
    conversation = {
        "messages": [
            [{"text": "Hi"}, {"text": "how are\n you?"}],
            [{"text": "  "}],
            [{"text": "Fine."}, {"text": "You?"}],
        ]
    }
    key = next(k for k in (f"c{i}" for i in range(100)) if hash_split(k) == "train")
    rows = list(chitchat.examples({key: conversation}, "train"))
    assert rows == [
        (
            f"{key}/1",
            {
                "context": ["Hi how are you?"],
                "response": "Fine. You?",
                "conversation": key,
                "turn": 1,
            },
        )
    ]


def test_the_builder_prepares_the_examples_of_the_generator(
    conversations, examples, tmp_path, monkeypatch
):
    ids = [key for key in conversations if hash_split(key) == "test"][:5]
    ids += [key for key in conversations if hash_split(key) == "train"][:20]
    ids += [key for key in conversations if hash_split(key) == "validation"][:5]
    small = tmp_path / "dataset.json"
    small.write_text(json.dumps({key: conversations[key] for key in ids}))
    monkeypatch.setattr(chitchat, "dataset_path", lambda: small)

    splits = load_dialogue_splits("chitchat", data_dir=str(tmp_path / "tfds"))
    for split in SPLITS:
        expected = sorted(
            (row["conversation"], row["response"], tuple(row["context"]))
            for row in examples[split]
            if row["conversation"] in ids
        )
        got = sorted(
            (row.conversation, row.response, tuple(row.context))
            for row in splits[split].itertuples()
        )
        assert got == expected and got
