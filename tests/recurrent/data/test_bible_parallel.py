import pandas as pd
import pytest

from recurrent.data.bundled.bible_parallel import translation_codes
from recurrent.data.sources import DataSpec, load_splits, parse_spec
from recurrent.errors import UserInputError

COLUMNS = {name: name for name in ("source", "target", "book", "chapter", "verse")}


def test_english_to_spanish_verses_are_aligned_and_chapters_never_straddle_splits(
    tmp_path,
):
    splits = load_splits(
        "bible_parallel", COLUMNS, key="source", data_dir=str(tmp_path)
    )
    total = sum(len(split) for split in splits.values())
    assert 30_000 <= total <= 31_102
    for name, share in {"train": 0.8, "validation": 0.1, "test": 0.1}.items():
        assert abs(len(splits[name]) / total - share) < 0.03
    chapters = {
        name: set(zip(split["book"], split["chapter"], strict=True))
        for name, split in splits.items()
    }
    assert not chapters["train"] & chapters["validation"]
    assert not chapters["train"] & chapters["test"]
    assert not chapters["validation"] & chapters["test"]
    everything = pd.concat(splits.values())
    genesis = everything.query("book == 1 and chapter == 1 and verse == 1")
    first = genesis.iloc[0]
    assert first["source"].startswith("In the beginning God created")
    assert first["target"].startswith("EN el principio crió Dios")


def test_pairs_by_name_or_code_and_copyrighted_translations_are_refused():
    assert parse_spec("bible_parallel/en-fr") == DataSpec(
        "bundled", "bible_parallel/en-fr"
    )
    assert translation_codes("en-de") == ("4", "e")
    assert translation_codes("k-l") == ("k", "l")
    with pytest.raises(UserInputError, match="translation '9' is copyrighted"):
        translation_codes("4-9")
    with pytest.raises(
        UserInputError, match="unknown translation 'q'.*en-es, en-fr, en-de"
    ):
        translation_codes("4-q")


def test_a_pair_of_language_codes_names_the_wrong_part(tmp_path):
    with pytest.raises(
        UserInputError,
        match=r"unknown language 'xx' in 'en-xx'; pairs are en-es, en-fr, en-de "
        r"\(language codes en, es, fr, de\) or SOURCE-TARGET translation codes "
        r"from: 4 \(English, World English Bible\)",
    ):
        load_splits(
            "bible_parallel/en-xx", COLUMNS, key="source", data_dir=str(tmp_path)
        )
    with pytest.raises(UserInputError, match="unknown language 'xx' in 'xx-en'"):
        translation_codes("xx-en")
    with pytest.raises(
        UserInputError, match="'es-fr' is not one of the language pairs"
    ):
        translation_codes("es-fr")
    with pytest.raises(UserInputError, match="'en-4' mixes language and translation"):
        translation_codes("en-4")
    with pytest.raises(UserInputError, match="'en' is not SOURCE-TARGET"):
        translation_codes("en")
    assert translation_codes("EN-FR") == ("4", "l")
    assert not any(tmp_path.iterdir())
