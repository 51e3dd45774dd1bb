import json

import pytest

from recurrent.data.bundled.aclsum import ASPECTS, dataset_folder, paper_example
from recurrent.data.sources import load_splits

COLUMNS = {"document": "document", "summary": "summary", "highlights": "highlights"}


def test_the_package_split_is_kept_with_one_highlight_per_document_line():
    splits = load_splits("aclsum", COLUMNS, key="document")
    assert {name: len(frame) for name, frame in splits.items()} == {
        "train": 100,
        "validation": 50,
        "test": 100,
    }
    for frame in splits.values():
        for document, summary, highlights in frame.itertuples(index=False):
            assert len(document.split("\n")) == len(highlights)
            assert set(highlights) <= {0, 1} and sum(highlights) > 0
            assert len(summary.split("\n")) == len(ASPECTS)


def test_an_aspect_config_takes_that_aspect_s_summary_and_highlights():
    paper = json.loads(
        (dataset_folder() / "test.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    outcome = load_splits("aclsum/outcome", COLUMNS, key="document")["test"]
    row = outcome[outcome["summary"] == paper["summary"]["outcome"].strip()].iloc[0]
    expected = [
        label
        for section in ("abstract", "introduction", "conclusion")
        for label in paper["highlights"]["outcome"][section]
    ]
    assert row["highlights"] == expected


def test_a_sentence_marked_for_any_aspect_is_highlighted_in_all():
    paper = {
        "id": "X",
        "title": "T",
        "summary": {aspect: f"{aspect} summary" for aspect in ASPECTS},
        "sentences": {
            "abstract": ["A one .", "A two ."],
            "introduction": ["I one ."],
            "conclusion": ["", "C two ."],
        },
        "highlights": {
            "challenge": {
                "abstract": [1, 0],
                "introduction": [0],
                "conclusion": [0, 0],
            },
            "approach": {"abstract": [0, 0], "introduction": [0], "conclusion": [0, 1]},
            "outcome": {"abstract": [0, 0], "introduction": [0], "conclusion": [1, 0]},
        },
    }
    example = paper_example(paper)
    # The blank conclusion line is left out with its label.
    assert example["document"] == "A one .\nA two .\nI one .\nC two ."
    assert example["highlights"] == [1, 0, 0, 1]
    assert example["summary"].splitlines() == [
        "challenge summary",
        "approach summary",
        "outcome summary",
    ]
    assert paper_example(paper, ("challenge",))["highlights"] == [1, 0, 0, 0]


def test_a_missing_package_is_named(monkeypatch):
    import importlib.util

    from recurrent.errors import UserInputError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserInputError, match="pip install aclsum"):
        dataset_folder()
