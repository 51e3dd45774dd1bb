import json
import shutil
import time

import pandas as pd
import pytest
import tensorflow_datasets as tfds

from recurrent.data.sources import DataSpec, fingerprint, load_splits, parse_spec
from recurrent.data.splits import hash_split
from recurrent.errors import UserInputError

COLUMNS = {"text": "body", "label": "topic"}
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: every connection is refused


@pytest.fixture
def offline(monkeypatch):
    """Sends every HTTP(S) request to a closed port on loopback."""
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, CLOSED_PORT)
    for variable in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)


def _tree(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


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


@pytest.mark.parametrize(
    "suffix,message", [("", "unknown data 'xxx"), (".csv", "data file 'xxx")]
)
def test_a_value_too_long_for_a_path_is_unknown_data_shown_short(suffix, message):
    with pytest.raises(UserInputError, match=message) as error:
        parse_spec("x" * 5_000 + suffix)
    assert "(5,00" in str(error.value) and len(str(error.value)) < 500


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


@pytest.mark.parametrize("name", ["no_such_set_xyz", "not a name", "imdb_reviews/a/b"])
def test_unknown_tfds_dataset_is_one_clear_error(tmp_path, name):
    with pytest.raises(UserInputError, match=f"TFDS knows no dataset '{name}'"):
        load_splits(
            f"tfds:{name}", {"text": "text"}, key="text", data_dir=str(tmp_path)
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


def test_rows_with_an_empty_value_are_dropped_and_counted_per_column(tmp_path, capsys):
    rows = _rows()
    rows[3]["topic"] = None
    rows[5]["topic"] = " "
    rows[8]["body"] = " \t "
    path = tmp_path / "data.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    splits = load_splits(str(path), COLUMNS, key="text")
    kept = pd.concat(splits.values())
    assert len(kept) == 37
    assert not kept.isin(["text number 3", "text number 5", "text number 8"]).any(
        axis=None
    )
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: dropped 3 rows with an empty 'topic' (2) or 'body' (1)"
    ]


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_words_pandas_reads_as_missing_are_kept_as_text(tmp_path, suffix):
    words = ["None", "NA", "null", "N/A", "nan", "NULL"]
    path = tmp_path / f"strings{suffix}"
    separator = "," if suffix == ".csv" else "\t"
    lines = ["source", "target"]
    path.write_text(
        "\n".join(
            [separator.join(lines)]
            + [separator.join([word, f"{word} translated"]) for word in words]
            + [separator.join(["", "an empty source"])]
        )
        + "\n"
    )
    splits = load_splits(
        str(path), {"source": "source", "target": "target"}, key="source"
    )
    kept = pd.concat(splits.values())
    assert sorted(kept["source"]) == sorted(words)  # only the empty cell is dropped


@pytest.mark.parametrize(
    "spec,message",
    [
        ("imdb_reviews/nope", "imdb_reviews has no config 'nope'; its configs are: "),
        ("ted_hrlr_translate/xx_to_yy", "no config 'xx_to_yy'.* az_to_en,.* pt_to_en,"),
        ("mnist/nope", "tfds:mnist has no configs; use --data tfds:mnist"),
    ],
)
def test_a_config_tfds_does_not_have_is_answered_with_the_valid_ones(
    tmp_path, offline, spec, message
):
    with pytest.raises(UserInputError, match=message):
        load_splits(
            f"tfds:{spec}", {"text": "text"}, key="text", data_dir=str(tmp_path)
        )
    assert _tree(tmp_path) == []


def test_a_prepared_copy_in_tfds_data_dir_loads_with_no_network(
    tmp_path, monkeypatch, offline
):
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    TinyReviews(data_dir=str(elsewhere)).download_and_prepare()
    shutil.copytree(elsewhere / "tiny_reviews" / "1.0.0", here / "tiny_reviews/1.0.0")
    monkeypatch.setenv("TFDS_DATA_DIR", str(here))
    before = _tree(here)
    splits = load_splits("tfds:tiny_reviews", {"text": "text"}, key="text")
    assert sum(len(split) for split in splits.values()) == 70
    assert _tree(here) == before


class TinyRemoteReviews(tfds.core.GeneratorBasedBuilder):
    """A TFDS dataset downloaded from a closed port: preparing it always fails."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({"text": tfds.features.Text()})
        )

    def _split_generators(self, dl_manager):
        path = dl_manager.download(f"{CLOSED_PORT}/reviews.txt")
        return {"train": self._generate_examples(path)}

    def _generate_examples(self, path):
        for i, line in enumerate(path.read_text().splitlines()):
            yield i, {"text": line}


def test_a_failed_download_fails_fast_says_how_to_copy_and_leaves_nothing(
    tmp_path, offline
):
    earlier = {
        "downloads/manual/notes.txt": "mine",
        "downloads/tiny_remote_reviews/earlier.bin": "an older attempt",
        "other_set/1.0.0/dataset_info.json": "{}",
    }
    for name, text in earlier.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    before = _tree(tmp_path)
    start = time.monotonic()
    with pytest.raises(UserInputError) as error:
        load_splits(
            "tfds:tiny_remote_reviews",
            {"text": "text"},
            key="text",
            data_dir=str(tmp_path),
        )
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert message.startswith("could not download and prepare tfds:tiny_remote_reviews")
    assert "`tfds build tiny_remote_reviews`" in message
    assert "prepared folder tiny_remote_reviews/1.0.0" in message
    assert message.endswith(f"into TFDS_DATA_DIR here ({tmp_path})")
    assert _tree(tmp_path) == before
    assert all((tmp_path / name).read_text() == text for name, text in earlier.items())
