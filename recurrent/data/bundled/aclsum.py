"""ACLSum: 250 ACL papers with human aspect summaries and sentence highlights.

Read from the JSONL files of the `aclsum` package (`aclsum/dataset/{train,
val,test}.jsonl`; Takeshita et al., "ACLSum: A New Dataset for Aspect-based
Summarization of Scientific Publications", NAACL 2024), without importing the
package. A document is the sentences of a paper's abstract, introduction and
conclusion, one per line. For each of three aspects (challenge, approach,
outcome) annotators wrote a summary and marked the sentences it draws on.

Configs: `all` (default) takes the three summaries in order as one summary
and a sentence as highlighted when it is marked for any aspect; `challenge`,
`approach` and `outcome` take one aspect. The package's own split is kept
(100 train, 50 validation, 100 test papers).
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from recurrent.errors import UserInputError

ASPECTS = ("challenge", "approach", "outcome")
SECTIONS = ("abstract", "introduction", "conclusion")
FILES = {"train": "train.jsonl", "validation": "val.jsonl", "test": "test.jsonl"}


def dataset_folder() -> Path:
    """The package's `dataset` folder, found without running its `__init__`."""
    spec = importlib.util.find_spec("aclsum")
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError(
            "the aclsum data comes from the aclsum package; pip install aclsum"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "dataset"


def paper_example(paper: dict, aspects=ASPECTS) -> dict:
    """One paper as `document` (a sentence per line), `summary` (the aspect
    summaries, a line each), `highlights` (1 for a sentence marked for any
    of `aspects`, one per line of `document`), `title` and `id`."""
    lines, highlights = [], []
    for section in SECTIONS:
        section_lines = [" ".join(s.split()) for s in paper["sentences"][section]]
        marks = [paper["highlights"][aspect][section] for aspect in aspects]
        for index, line in enumerate(section_lines):
            if line:
                lines.append(line)
                highlights.append(int(any(mark[index] for mark in marks)))
    return {
        "document": "\n".join(lines),
        "summary": "\n".join(paper["summary"][aspect].strip() for aspect in aspects),
        "highlights": highlights,
        "title": paper["title"],
        "id": paper["id"],
    }


class AclsumConfig(tfds.core.BuilderConfig):
    def __init__(self, *, aspects, **kwargs):
        super().__init__(version=tfds.core.Version("1.0.0"), **kwargs)
        self.aspects = tuple(aspects)


class Aclsum(tfds.core.GeneratorBasedBuilder):
    """ACL papers with human aspect summaries and human sentence highlights."""

    BUILDER_CONFIGS = [
        AclsumConfig(
            name="all", aspects=ASPECTS, description="the three aspects together"
        ),
        *[
            AclsumConfig(name=aspect, aspects=(aspect,), description=f"{aspect} only")
            for aspect in ASPECTS
        ],
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "document": tfds.features.Text(),
                    "summary": tfds.features.Text(),
                    "highlights": tfds.features.Sequence(
                        tfds.features.Scalar(np.int32)
                    ),
                    "title": tfds.features.Text(),
                    "id": tfds.features.Text(),
                }
            ),
            supervised_keys=("document", "summary"),
            homepage="https://github.com/sobamchan/aclsum",
            citation=(
                "Takeshita et al., ACLSum: A New Dataset for Aspect-based "
                "Summarization of Scientific Publications, NAACL 2024."
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # everything is read from the installed package
        folder = dataset_folder()
        return {
            split: self._generate_examples(folder / name)
            for split, name in FILES.items()
        }

    def _generate_examples(self, path: Path):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    paper = json.loads(line)
                    yield paper["id"], paper_example(paper, self.builder_config.aspects)
