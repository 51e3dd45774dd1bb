import json

import pandas as pd
import pytest
import tensorflow_datasets as tfds

from recurrent.data.sources import DataSpec, fingerprint, load_splits, parse_spec
from recurrent.data.splits import hash_split
from recurrent.errors import UserInputError

COLUMNS = {"text": "body", "label": "topic"}


def _rows(count=40):
    return [
        {"body": f"text number {i}", "topic": "a" if i % 2 else "b"}
        for i in range(count)
    ]


def test_parse_spec_forms(tmp_path):
    file = tmp_path / "data.csv"
    file.write_text("text,label\nx,y\n")
    assert parse_spec("bbc_news") == DataSpec("bundled", "bbc_news")
    assert parse_spec("tfds:ted_hrlr_translate/pt_to_en") == DataSpec(
        "tfds", "ted_hrlr_translate/pt_to_en"
    )
    assert parse_spec(str(file)) == DataSpec("file", str(file))


@pytest.mark.parametrize(
    "spec,message",
    [
        ("missing.csv", "data file 'missing.csv' not found"),
        ("no_such_dataset", "unknown data 'no_such_dataset'.*bbc_news.*tfds:<name>"),
        ("tfds:", "needs a dataset name"),
    ],
)
def test_parse_spec_errors_name_the_fix(spec, message):
    with pytest.raises(UserInputError, match=message):
        parse_spec(spec)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_files_load_with_renamed_columns_and_a_hash_split(tmp_path, suffix):
    frame = pd.DataFrame(_rows())
    path = tmp_path / f"data{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(row) for row in _rows()))
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    splits = load_splits(str(path), COLUMNS, key="text")
    assert sum(len(split) for split in splits.values()) == 40
    for name, split in splits.items():
        assert list(split.columns) == ["text", "label"]
        assert all(hash_split(text) == name for text in split["text"])


def test_a_split_column_is_honoured(tmp_path):
    rows = [
        dict(row, split=["train", "validation", "test"][i % 3])
        for i, row in enumerate(_rows())
    ]
    path = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    splits = load_splits(str(path), COLUMNS, key="text")
    assert splits["validation"]["text"].tolist() == [r["body"] for r in rows[1::3]]


def test_a_missing_column_lists_the_columns_and_the_fix(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    with pytest.raises(
        UserInputError, match="no column 'text'.*'body', 'topic'.*--set"
    ):
        load_splits(
            str(path), {"text": "text", "label": "topic"}, key="text", hint="Use --set."
        )


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,topic\n")
    with pytest.raises(UserInputError, match="holds no rows"):
        load_splits(str(path), COLUMNS, key="text")


def test_fingerprint_changes_with_the_data(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    first = fingerprint(load_splits(str(path), COLUMNS, key="text"))
    assert first == fingerprint(load_splits(str(path), COLUMNS, key="text"))
    pd.DataFrame(_rows(41)).to_csv(path, index=False)
    assert first != fingerprint(load_splits(str(path), COLUMNS, key="text"))


class TinyReviews(tfds.core.GeneratorBasedBuilder):
    """A small TFDS dataset with train and test splits only, like imdb_reviews."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=["neg", "pos"]),
                }
            )
        )

    def _split_generators(self, dl_manager):
        return {
            "train": self._generate_examples(0, 60),
            "test": self._generate_examples(60, 70),
        }

    def _generate_examples(self, start, stop):
        for i in range(start, stop):
            yield i, {"text": f"review {i}", "label": i % 2}


def test_tfds_datasets_load_with_label_names_and_a_carved_validation_split(tmp_path):
    splits = load_splits(
        "tfds:tiny_reviews",
        {"text": "text", "label": "label"},
        key="text",
        data_dir=str(tmp_path),
    )
    assert len(splits["test"]) == 10
    assert len(splits["train"]) + len(splits["validation"]) == 60
    assert len(splits["validation"]) > 0
    assert set(splits["train"]["label"]) == {"neg", "pos"}
    assert not set(splits["train"]["text"]) & set(splits["validation"]["text"])


def test_unknown_tfds_dataset_is_one_clear_error(tmp_path):
    with pytest.raises(UserInputError, match="TFDS knows no dataset 'no_such_set_xyz'"):
        load_splits(
            "tfds:no_such_set_xyz", {"text": "text"}, key="text", data_dir=str(tmp_path)
        )


def test_headerless_tab_separated_pairs_are_read_by_position(tmp_path):
    path = tmp_path / "spa.txt"
    lines = [
        f"Go {i}.\tVe {i}.\tCC-BY 2.0 (France) Attribution: tatoeba.org"
        for i in range(40)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    columns = {"source": "source", "target": "target"}
    splits = load_splits(str(path), columns, key="source", positional=True)
    rows = pd.concat(splits.values())
    assert len(rows) == 40 and list(rows.columns) == ["source", "target"]
    assert set(rows["source"]) == {f"Go {i}." for i in range(40)}
    assert dict(zip(rows["source"], rows["target"], strict=True))["Go 7."] == "Ve 7."


def test_a_tab_separated_file_with_a_header_keeps_its_column_names(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("de\ten\n" + "".join(f"Hallo {i}\tHello {i}\n" for i in range(20)))
    splits = load_splits(
        str(path), {"source": "de", "target": "en"}, key="source", positional=True
    )
    assert len(pd.concat(splits.values())) == 20


def test_headerless_lines_need_enough_fields(tmp_path):
    path = tmp_path / "one_column.txt"
    path.write_text("only a source\nand another\n")
    with pytest.raises(UserInputError, match="needs 2 tab-separated fields"):
        load_splits(
            str(path),
            {"source": "source", "target": "target"},
            key="source",
            positional=True,
        )
