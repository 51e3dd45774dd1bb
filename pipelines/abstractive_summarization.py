"""Abstractive summarization with a pointer-generator and coverage, end to end.

Run it with no arguments to train a pointer-generator with coverage (See et
al. 2017) on the bundled BBC News summaries (each article's lede is the
summary of the rest), score it on the held-out test split with ROUGE (95%
intervals), novel n-grams and repeated trigrams beside Lead-1, TextRank and
the extractive summarizer's export if there is one, and export a SavedModel
that summarizes raw strings::

    python -m pipelines.abstractive_summarization
    tensorboard --logdir saved_models/abstractive_summarization/runs

Variants: ``--set output=switch`` (Nallapati et al. 2016), ``output=vocabulary``
(no copying), ``coverage=false``, ``latent=gaussian``; headlines with ``--set
target=headline``; human summaries of papers with ``--data aclsum``. Then::

    python -m pipelines.abstractive_summarization predict --input article.txt
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("abstractive_summarization")
