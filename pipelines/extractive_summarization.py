"""Extractive summarization with SummaRuNNer, end to end.

Run it with no arguments to train SummaRuNNer on the bundled BBC News
summaries (the lede of each article summarizes the rest), compare it on the
held-out test split with Lead-1, Lead-3, TextRank, random sentences and the
greedy ROUGE oracle (ROUGE with 95% intervals), and export a SavedModel that
summarizes raw strings::

    python -m pipelines.extractive_summarization
    tensorboard --logdir saved_models/extractive_summarization/runs

Human references and human sentence labels: ``--data aclsum``. Ablations:
``--set novelty=false`` (or content, salience, position, relative_position).
Bring your own data: a CSV or JSONL file with `document` and `summary`
columns, or ``--data tfds:cnn_dailymail --set document_column=article
summary_column=highlights``. Then use the export::

    python -m pipelines.extractive_summarization predict --input article.txt
"""

from pipelines.runner import main

if __name__ == "__main__":
    main("extractive_summarization")
