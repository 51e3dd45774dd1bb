"""Text classification with recurrent networks, end to end.

Run it with no arguments to train a bidirectional GRU with max pooling on the
bundled BBC News articles (five topics), compare it with TF-IDF + logistic
regression on the held-out test split, and export a SavedModel that classifies
raw strings::

    python -m pipelines.text_classification
    tensorboard --logdir saved_models/text_classification/runs

Try the variants of the literature by configuration::

    --set cell=lstm bidirectional=false pooling=last       # a plain LSTM
    --set front_end=conv                                   # C-LSTM (Zhou et al. 2015)
    --set encoder=disconnected window=10                   # DRNN (Wang 2018)
    --set pooling=attention                                # attention pooling (Yang et al. 2016)

Bring your own data: a CSV/TSV/JSONL file with `text` and `label` columns
(rename with `--set text_column=... label_column=...`), or a TFDS dataset such
as `--data tfds:imdb_reviews`. Then use the export::

    python -m pipelines.text_classification predict "Shares fell sharply in London"
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("text_classification")
