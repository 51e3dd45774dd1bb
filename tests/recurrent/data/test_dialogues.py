import json

import pytest
import tensorflow_datasets as tfds

from recurrent.data.dialogues import (
    MAX_CONTEXT,
    SEPARATOR,
    load_dialogue_splits,
    turn_examples,
)
from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError


def _jsonl(path, conversations):
    path.write_text(
        "\n".join(json.dumps(c) if not isinstance(c, str) else c for c in conversations)
        + "\n",
        encoding="utf-8",
    )
    return path


def _rows(splits):
    """Every example as `(split, conversation, context tuple, response)`."""
    return [
        (split, row.conversation, tuple(row.context), row.response)
        for split, frame in splits.items()
        for row in frame.itertuples()
    ]


def _key_in(split, prefix="c"):
    """The first key `<prefix><n>` that hashes to `split`."""
    return next(
        f"{prefix}{n}" for n in range(1000) if hash_split(f"{prefix}{n}") == split
    )


def test_the_separator_is_a_newline_no_turn_can_hold():
    assert SEPARATOR == "\n"
    examples = list(turn_examples(["Hi\nthere", "  ", "Hello!\r\n"]))
    assert examples == [(1, ["Hi there"], "Hello!")]


def test_each_later_turn_is_a_response_to_at_most_eight_turns_oldest_first():
    turns = [f"turn {n}" for n in range(12)]
    examples = list(turn_examples(turns))
    assert [index for index, _, _ in examples] == list(range(1, 12))
    assert examples[0] == (1, ["turn 0"], "turn 1")
    assert examples[7][1] == turns[:8]
    assert examples[-1] == (11, turns[3:11], "turn 11")
    assert max(len(context) for _, context, _ in examples) == MAX_CONTEXT


def test_jsonl_conversations_are_read_in_both_forms_and_counted(tmp_path, capsys):
    path = _jsonl(
        tmp_path / "chats.jsonl",
        [
            ["Hi there", "Hello!", "How are you?"],
            {"id": "x7", "turns": ["a", "", "b"]},
            ["only one turn"],
            "",
            {"turns": ["  ", "lonely"]},
        ],
    )
    splits = load_dialogue_splits(str(path))
    assert sorted(row[1:] for row in _rows(splits)) == [
        ("line-1", ("Hi there",), "Hello!"),
        ("line-1", ("Hi there", "Hello!"), "How are you?"),
        ("x7", ("a",), "b"),
    ]
    for frame in splits.values():
        assert list(frame.columns) == ["context", "response", "conversation"]
    printed = capsys.readouterr().out.strip()
    assert printed.count("\n") == 0
    assert "3 examples" in printed
    assert "from 4 conversations; skipped 2 conversations with fewer than 2" in printed


def test_a_jsonl_conversation_is_split_by_its_id_or_else_its_text(tmp_path):
    conversations = [
        {"id": f"chat-{n}", "turns": ["hello", f"hi {n}", "how are you?", "fine"]}
        for n in range(150)
    ] + [[f"question {n}", "answer", "thanks"] for n in range(150)]
    splits = load_dialogue_splits(str(_jsonl(tmp_path / "many.jsonl", conversations)))
    rows = _rows(splits)
    assert len(rows) == 150 * 3 + 150 * 2
    split_of = {}
    for split, conversation, context, _ in rows:
        assert split_of.setdefault(conversation, split) == split
        if conversation.startswith("chat-"):
            assert split == hash_split(conversation)
        else:
            turns = [context[0], "answer", "thanks"]
            assert split == hash_split(SEPARATOR.join(turns))
    assert all(len(splits[split]) > 0 for split in SPLITS)


def test_a_long_jsonl_conversation_keeps_the_last_eight_turns(tmp_path):
    turns = [f"t{n}" for n in range(12)]
    key = _key_in("train")
    path = _jsonl(tmp_path / "long.jsonl", [{"id": key, "turns": turns}])
    train = load_dialogue_splits(str(path))["train"]
    last = train[train["response"] == "t11"].iloc[0]
    assert last["context"] == turns[3:11]
    assert train["context"].map(len).max() == MAX_CONTEXT


@pytest.mark.parametrize("suffix", [".tsv", ".txt"])
def test_tab_separated_pairs_take_the_last_field_as_the_response(
    tmp_path, capsys, suffix
):
    lines = [
        "context\tresponse",
        "hello\thi",
        "how are you?\tfine\tand you?",
        "\tno context",
        "no response\t ",
        "",
        "\t".join(f"c{n}" for n in range(11)),
        "context\tresponse",
    ]
    path = tmp_path / f"pairs{suffix}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    splits = load_dialogue_splits(str(path))
    rows = sorted(row[1:] for row in _rows(splits))
    assert rows == [
        ("line-2", ("hello",), "hi"),
        ("line-3", ("how are you?", "fine"), "and you?"),
        ("line-7", tuple(f"c{n}" for n in range(2, 10)), "c10"),
        ("line-8", ("context",), "response"),  # a header only on the first line
    ]
    for split, conversation, *_ in _rows(splits):
        number = int(conversation.removeprefix("line-"))
        assert split == hash_split(lines[number - 1])
    printed = capsys.readouterr().out
    assert "4 examples" in printed
    assert "from 6 lines; skipped 2 lines with a blank context or response" in printed


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.jsonl", None, "dialogue file '.*missing.jsonl' not found"),
        ("latin.jsonl", b'["caf\xe9", "ok"]\n', "is not UTF-8 text.*save it as UTF-8"),
        (
            "bad.jsonl",
            '["a", "b"]\n{"turns": ["a"\n',
            "line 2 of .* is not JSON.*a JSON list of turn strings",
        ),
        ("numbers.jsonl", '["a", 2]\n', "line 1 of .* is not a list of strings"),
        ("noturns.jsonl", '["a", "b"]\n{"text": "a"}\n', "line 2 of .* not a list"),
        ("nested.jsonl", '[["a"], ["b"]]\n', "line 1 of .* not a list of strings"),
        ("badid.jsonl", '{"id": [1], "turns": ["a", "b"]}\n', '"id" must be'),
        ("one.tsv", "hello\thi\nno tab here\n", "line 2 of .* has one field"),
        ("short.jsonl", '["a"]\n["b", " "]\n', "holds no usable example"),
        ("header.tsv", "context\tresponse\n", "holds no usable example"),
        ("table.csv", "context,response\na,b\n", r"\.jsonl.*\.tsv"),
        ("chitchatt", None, "chitchat, chatterbot, chatterbot/<category>"),
    ],
)
def test_bad_input_is_one_error_naming_the_fix(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserInputError, match=message):
        load_dialogue_splits(str(path))


def test_a_file_whose_conversations_all_fall_outside_train_is_refused(tmp_path):
    path = _jsonl(
        tmp_path / "test.jsonl", [{"id": _key_in("test"), "turns": ["a", "b"]}]
    )
    with pytest.raises(UserInputError, match="no training examples"):
        load_dialogue_splits(str(path))


def test_an_unknown_bundled_config_lists_the_valid_ones():
    with pytest.raises(UserInputError, match="chatterbot/all, chatterbot/ai"):
        load_dialogue_splits("chatterbot/no_such_category")


class TinyChats(tfds.core.GeneratorBasedBuilder):
    """A small TFDS dialogue set with train and test splits and no conversation ids."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "context": tfds.features.Sequence(tfds.features.Text()),
                    "response": tfds.features.Text(),
                }
            )
        )

    def _split_generators(self, dl_manager):
        return {
            "train": self._generate_examples(0, 80),
            "test": self._generate_examples(80, 90),
        }

    def _generate_examples(self, start, stop):
        for i in range(start, stop):
            context = [f"turn {n} of {i}" for n in range(i % 12)] + [" "]
            yield i, {"context": context, "response": f"reply {i}" if i % 5 else " "}


class TinyFlatChats(TinyChats):
    """Like TinyChats, with the context as one text."""

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {"context": tfds.features.Text(), "response": tfds.features.Text()}
            )
        )

    def _generate_examples(self, start, stop):
        for i in range(start, stop):
            yield i, {"context": f"turn {i}", "response": f"reply {i}"}


def test_a_tfds_dialogue_set_is_cleaned_and_gets_a_validation_split(tmp_path):
    splits = load_dialogue_splits("tfds:tiny_chats", data_dir=str(tmp_path))
    rows = _rows(splits)
    # Examples 0, 5, 10, ... have a blank response; 12, 24, ... a blank context.
    kept = [i for i in range(90) if i % 5 and i % 12]
    assert sorted(int(response.split()[1]) for *_, response in rows) == kept
    assert len(splits["test"]) == len([i for i in kept if i >= 80])
    assert len(splits["validation"]) > 0
    for split, conversation, context, response in rows:
        i = int(response.split()[1])
        assert context == tuple(f"turn {n} of {i}" for n in range(i % 12))[-8:]
        assert conversation.startswith(f"{split}-")
    contexts = {
        split: set(frame["context"].map(tuple)) for split, frame in splits.items()
    }
    assert not contexts["train"] & contexts["validation"]


def test_a_tfds_set_without_a_sequence_context_is_refused(tmp_path):
    with pytest.raises(
        UserInputError, match="not a dialogue dataset.*sequence of text"
    ):
        load_dialogue_splits("tfds:tiny_flat_chats", data_dir=str(tmp_path))


def test_bundled_dialogues_come_as_lists_of_turns_and_strings():
    splits = load_dialogue_splits("chatterbot/greetings")
    for frame in splits.values():
        for row in frame.itertuples():
            assert isinstance(row.context, list) and row.context
            assert all(isinstance(turn, str) and turn for turn in row.context)
            assert isinstance(row.response, str) and row.response
            assert row.conversation.startswith("greetings/")


def test_batched_reading_gives_what_load_splits_gives():
    from recurrent.data.sources import load_splits

    columns = {name: name for name in ("context", "response", "conversation")}
    expected = load_splits("chatterbot/psychology", columns, key="conversation")
    splits = load_dialogue_splits("chatterbot/psychology")
    for split in SPLITS:
        assert splits[split].equals(expected[split])
