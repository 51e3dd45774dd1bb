import textwrap

import pytest

from recurrent.data.bundled import chatterbot
from recurrent.data.dialogues import MAX_CONTEXT, SEPARATOR, load_dialogue_splits
from recurrent.data.splits import hash_split


@pytest.fixture(scope="module")
def everything():
    return load_dialogue_splits("chatterbot")


def _write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yml").write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_categories_are_the_installed_english_files():
    installed = {path.stem for path in chatterbot.data_folder().glob("*.yml")}
    assert set(chatterbot.CATEGORIES) == installed
    configs = [config.name for config in chatterbot.Chatterbot.BUILDER_CONFIGS]
    assert configs == ["all", *chatterbot.CATEGORIES]


def test_every_value_stays_text_and_odd_turns_are_handled(tmp_path):
    _write(
        tmp_path,
        "odd",
        """\
        categories:
        - odd
        conversations:
        - - are you a robot?
          - yes
        - - what is pi?
          - 3.14
          - no
          - null
        - - a turn written as a list
          - - first part
            - second part
        - - ''
          - only one turn
        - a conversation that is not a list
        """,
    )
    assert chatterbot.read_category(tmp_path / "odd.yml") == [
        ["are you a robot?", "yes"],
        ["what is pi?", "3.14", "no", "null"],
        ["a turn written as a list", "first part second part"],
        ["only one turn"],
        ["a conversation that is not a list"],
    ]


def test_a_repeated_conversation_is_kept_once_and_splits_by_its_text(tmp_path):
    _write(tmp_path, "a", "conversations:\n- [hi, hello]\n- [bye, see you]\n")
    _write(tmp_path, "b", "conversations:\n- [hi, hello]\n- [hi, 'hello, friend']\n")
    assert list(chatterbot.conversations(["a", "b"], tmp_path)) == [
        ("a/0", ["hi", "hello"]),
        ("a/1", ["bye", "see you"]),
        ("b/1", ["hi", "hello, friend"]),
    ]
    for split, rows in chatterbot.examples(["a", "b"], tmp_path).items():
        for key, example in rows:
            assert example["conversation"] != "b/0"
            turns = [*example["context"], example["response"]]
            assert hash_split(SEPARATOR.join(turns)) == split
            assert key == f"{example['conversation']}/{example['turn']}"


def test_all_has_every_category_once_with_a_useful_test_split(everything):
    counts = {split: len(frame) for split, frame in everything.items()}
    assert counts == {"train": 960, "validation": 99, "test": 119}
    conversations = {
        split: set(frame["conversation"]) for split, frame in everything.items()
    }
    assert not conversations["train"] & conversations["validation"]
    assert not conversations["train"] & conversations["test"]
    assert not conversations["validation"] & conversations["test"]
    categories = {key.split("/")[0] for keys in conversations.values() for key in keys}
    assert categories == set(chatterbot.CATEGORIES)


def test_no_conversation_text_is_in_two_splits_or_twice_in_one(everything):
    seen = {}
    for split, frame in everything.items():
        for row in frame.itertuples():
            assert 1 <= len(row.context) <= MAX_CONTEXT
            for turn in [*row.context, row.response]:
                assert turn == " ".join(turn.split()) and turn
            pair = (tuple(row.context), row.response)
            assert seen.setdefault(pair, split) == split
    pairs = sum(len(frame) for frame in everything.values())
    assert len(seen) == pairs  # no example is repeated


def test_a_category_config_holds_that_category_only():
    splits = load_dialogue_splits("chatterbot/psychology")
    counts = {split: len(frame) for split, frame in splits.items()}
    assert counts == {"train": 50, "validation": 7, "test": 7}
    assert all(
        key.startswith("psychology/")
        for frame in splits.values()
        for key in frame["conversation"]
    )


def test_an_example_two_conversations_share_is_kept_once(tmp_path):
    _write(tmp_path, "a", "conversations:\n- [hi, hello, 'how are you?']\n")
    _write(tmp_path, "b", "conversations:\n- [hi, hello]\n- [hi, hello, bye]\n")
    rows = [
        (example["conversation"], *example["context"], example["response"])
        for examples in chatterbot.examples(["a", "b"], tmp_path).values()
        for _, example in examples
    ]
    assert sorted(rows) == [
        ("a/0", "hi", "hello"),
        ("a/0", "hi", "hello", "how are you?"),
        ("b/1", "hi", "hello", "bye"),
    ]


def test_every_category_has_training_examples():
    for category in chatterbot.CATEGORIES:
        assert chatterbot.examples([category])["train"], category


def test_a_split_a_small_category_lacks_is_carved_from_train():
    # greetings has no test example of its own, health (one conversation)
    # nothing outside train.
    assert not chatterbot.examples(["greetings"])["test"]
    greetings = load_dialogue_splits("chatterbot/greetings")
    assert len(greetings["test"]) > 0
    assert not set(greetings["test"]["conversation"]) & set(
        greetings["train"]["conversation"]
    )
    health = load_dialogue_splits("chatterbot/health")
    assert {split: len(frame) for split, frame in health.items()} == {
        "train": 8,
        "validation": 0,
        "test": 0,
    }
    assert list(health["test"].columns) == ["context", "response", "conversation"]
