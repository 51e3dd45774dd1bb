"""Text classification on short texts: what each lever of the recurrent
classifier gives, beside TF-IDF + logistic regression.

The default short-text set is BBC News titles (a few words each, 5 topics; the
articles' `title` feature). Every variant is the pipeline a user would run,
`python -m pipelines.text_classification --data DATA --set text_column=title
...`, in its own output folder. The table gives, for each, the epoch kept (lowest
validation loss), its validation accuracy (the figure to choose by), then test
accuracy and macro-F1 and the wall time of the whole command.

The word-vector and pretraining variants read text that is not in any test
article: the bodies of the training-split articles, one paragraph per line
(`pretrain_text`), and word2vec vectors (gensim, `pip install gensim`) trained on
them and written in word2vec's text format (`embeddings`).

    python benchmarks/short_texts.py [--variants NAME ...] [--out /tmp/short_texts]
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "default": [],
    "embedding_dropout=0.1": ["embedding_dropout=0.1"],
    "recurrent_dropout=0.25": ["recurrent_dropout=0.25"],
    "schedule=cosine": ["schedule=cosine"],
    "word2vec (train bodies)": ["embeddings={vectors}"],
    "word2vec, frozen": ["embeddings={vectors}", "freeze_embeddings=true"],
    "word2vec + embedding_dropout=0.1": [
        "embeddings={vectors}",
        "embedding_dropout=0.1",
    ],
    "pretrain_epochs=5 (titles)": ["pretrain_epochs=5"],
    "pretrain_epochs=2 (titles + train bodies)": [
        "pretrain_epochs=2",
        "pretrain_text={bodies}",
    ],
    "C-LSTM (front_end=conv)": ["front_end=conv"],
    "DRNN (encoder=disconnected)": ["encoder=disconnected"],
}


def training_bodies() -> list[str]:
    """The paragraphs of the training-split articles' bodies (no title, no
    validation or test text)."""
    from recurrent.data.bundled.bbc_news import articles
    from recurrent.data.splits import hash_split

    return [
        line.strip()
        for title, body, _ in articles()
        if hash_split(f"{title}\n\n{body}") == "train"
        for line in body.splitlines()
        if line.strip()
    ]


def write_word_vectors(path: Path, dimensions: int = 128) -> Path:
    """word2vec (skip-gram) vectors of `training_bodies`."""
    from gensim.models import Word2Vec

    sentences = [re.findall(r"[\w']+", line.lower()) for line in training_bodies()]
    model = Word2Vec(
        sentences,
        vector_size=dimensions,
        window=5,
        min_count=2,
        sg=1,
        seed=1,
        workers=2,
    )
    model.wv.save_word2vec_format(str(path), binary=False)
    return path


def run_variant(name: str, settings: list[str], data: str, out: Path) -> dict:
    output = out / re.sub(r"\W+", "_", name).strip("_")
    command = [
        sys.executable,
        "-m",
        "pipelines.text_classification",
        "--data",
        data,
        "--output",
        str(output),
        "--set",
        "text_column=title",
        *settings,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(
            f"{name} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    (history_file,) = (output / "text_classification" / "runs").glob("*/history.csv")
    with history_file.open() as stream:
        rows = list(csv.DictReader(stream))
    best = min(range(len(rows)), key=lambda i: float(rows[i]["val_loss"]))
    metadata = json.loads(
        (output / "text_classification" / "1" / "metadata.json").read_text()
    )
    return {
        "name": name,
        "epoch": f"{best + 1} of {len(rows)}",
        "val_accuracy": float(rows[best]["val_accuracy"]),
        "accuracy": metadata["metrics"]["accuracy"],
        "macro_f1": metadata["metrics"]["macro_f1"],
        "baseline": metadata["baselines"]["tfidf_logreg"],
        "tokens_kept": metadata["assets"].get("tokens_kept"),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="bbc_news")
    parser.add_argument("--out", type=Path, default=Path("/tmp/short_texts"))
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    vectors = arguments.out / "word2vec_bbc_train_bodies.txt"
    bodies = arguments.out / "bbc_train_bodies.txt"
    if not vectors.is_file():
        write_word_vectors(vectors)
    if not bodies.is_file():
        bodies.write_text("\n".join(training_bodies()) + "\n", encoding="utf-8")
    results = []
    for name in arguments.variants:
        settings = [
            value.format(vectors=vectors, bodies=bodies) for value in VARIANTS[name]
        ]
        results.append(run_variant(name, settings, arguments.data, arguments.out))
        print(json.dumps(results[-1]), flush=True)
    baseline = results[0]["baseline"]
    print(
        "\n| variant | epoch kept | validation accuracy | test accuracy | test macro-F1 | wall s |"
    )
    print("|---|---|---|---|---|---|")
    for row in results:
        print(
            f"| {row['name']} | {row['epoch']} | {row['val_accuracy']:.4f} | "
            f"{row['accuracy']:.4f} | {row['macro_f1']:.4f} | {row['seconds']:.0f} |"
        )
    print(
        f"| TF-IDF + logistic regression | | | {baseline['accuracy']:.4f} | "
        f"{baseline['macro_f1']:.4f} | |"
    )
    print(f"\ntokens kept per title: {results[0]['tokens_kept']}")


if __name__ == "__main__":
    main()
