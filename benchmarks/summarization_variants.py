"""Extractive summarization variants, trained as the pipeline trains them and
scored on one split: the validation split to choose settings, the test split
once for the configurations that are reported (the default and the ablations).

Each variant is `python -m pipelines.extractive_summarization --data DATA
--set ...` trained in its own run folder (a finished run is reused). The table
gives the epoch kept (lowest validation loss), ROUGE-1/2/L F1 of the model
with the ROUGE-2 interval, and the same for the baselines on the same split.
The word2vec variants read vectors (gensim, `pip install gensim`) trained on
the training-split BBC bodies only, as `benchmarks/short_texts.py` writes them.

    python benchmarks/summarization_variants.py --split validation \
        [--data bbc_summaries] [--variants NAME ...] [--set key=value ...] \
        [--counts 1 2 3] [--out /tmp/summarization]
    python benchmarks/summarization_variants.py --split test --variants default \
        no_content no_salience no_novelty no_position no_relative_position
"""

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "benchmarks")]

from variant_runs import best_epoch  # noqa: E402

VARIANTS = {
    "default": [],
    "no_content": ["content=false"],
    "no_salience": ["salience=false"],
    "no_novelty": ["novelty=false"],
    "no_position": ["position=false"],
    "no_relative_position": ["relative_position=false"],
    "labels=soft": ["labels=soft"],
    "freeze_embeddings (random)": ["freeze_embeddings=true"],
    "word2vec": ["embeddings={vectors}"],
    "word2vec, frozen": ["embeddings={vectors}", "freeze_embeddings=true"],
    "dropout=0.5": ["dropout=0.5"],
    "learning_rate=3e-4": ["learning_rate=3e-4"],
    "max_tokens=8000": ["max_tokens=8000"],
    "pooling=max": ["pooling=max"],
    "pooling=attention": ["pooling=attention"],
    "cell=lstm": ["cell=lstm"],
    "units=128": ["units=128"],
    "word_means": ["word_means=true"],
    "embedding_dim=200": ["embedding_dim=200"],
    "learning_rate=3e-3": ["learning_rate=3e-3"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], required=True)
    parser.add_argument("--data", default="bbc_summaries")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        dest="extra",
        help="settings of every variant (a variant's own settings win)",
    )
    parser.add_argument(
        "--counts",
        nargs="*",
        type=int,
        default=[],
        help="score each trained model with summaries of these sentence counts",
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/summarization"))
    args = parser.parse_args()

    from short_texts import write_word_vectors

    from pipelines.runner import config as configuration
    from pipelines.runner.layout import Layout
    from pipelines.runner.train import history, in_memory_predictor, train
    from tasks import get

    task = get("extractive_summarization")
    rows = []
    args.out.mkdir(parents=True, exist_ok=True)
    vectors = args.out / "word2vec_bbc_train_bodies_100.txt"
    for name in args.variants:
        if "{vectors}" in " ".join(VARIANTS[name]) and not vectors.is_file():
            write_word_vectors(vectors, dimensions=100)
        settings = [value.format(vectors=vectors) for value in VARIANTS[name]]
        config = configuration.resolve(
            task.Config, assignments=[*args.extra, *settings]
        )
        started = time.perf_counter()
        result = train(
            task,
            config,
            args.data,
            Layout(args.out / args.data.replace("/", "_"), task.name),
            run_name=re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-"),
        )
        seconds = time.perf_counter() - started
        prepared = result.prepared
        for count in args.counts or [prepared.assets["summary_sentences"]]:
            # The same trained model, cutting its summaries at `count` sentences.
            scored = dataclasses.replace(
                prepared,
                splits={**prepared.splits, "test": prepared.splits[args.split]},
                assets={**prepared.assets, "summary_sentences": count},
                serving={},
            )
            predict = in_memory_predictor(task, result.model, scored)
            evaluation = task.evaluate(predict, scored, config)
            label = f"{name}, {count} sentences" if args.counts else name
            print(f"\n== {label} on {args.split}\n{evaluation.report}\n", flush=True)
            rows.append(
                {
                    "variant": label,
                    "epoch": best_epoch(history(result.run_dir)),
                    "seconds": round(seconds),
                    "model": evaluation.metrics,
                    "baselines": evaluation.baselines,
                }
            )
        (args.out / f"{args.data.replace('/', '_')}-{args.split}.json").write_text(
            json.dumps(rows, indent=1)
        )
    print(table(rows, args.split))
    count = rows and prepared.assets["summary_sentences"]
    if count:
        ceiling = label_ceiling(prepared, args.split, count)
        print(
            f"\nthe {count} sentences with the highest graded label (the labels learned "
            f"perfectly): ROUGE-1 {ceiling['rouge1']:.2f}, ROUGE-2 {ceiling['rouge2']:.2f}"
        )


def label_ceiling(prepared, split: str, count: int) -> dict[str, float]:
    """ROUGE of the `count` sentences with the highest graded label (each
    sentence's own ROUGE against the reference), on `split`."""
    from recurrent.baselines.summarization import select
    from recurrent.metrics.summarization import rouge_scores

    frame = prepared.splits[split]
    summaries = [
        "\n".join(document[i] for i in select(scores, document, count=count))
        for document, scores in zip(
            frame["sentences"], frame["sentence_rouge"], strict=True
        )
    ]
    return rouge_scores(summaries, frame["summary"].tolist())


def table(rows, split: str) -> str:
    def cells(scores):
        return (
            f"{scores['rouge1']:.2f} | {scores['rouge2']:.2f} "
            f"[{scores['rouge2_low']:.2f}, {scores['rouge2_high']:.2f}] | "
            f"{scores['rougeL']:.2f}"
        )

    extra = "sentence F1 |" if "sentence_f1" in rows[0]["model"] else ""
    lines = [
        f"| variant | epoch kept | {split} ROUGE-1 | ROUGE-2 [95%] | ROUGE-L | {extra}",
        "|---|---|---|---|---|" + ("---|" if extra else ""),
    ]
    for row in rows:
        f1 = f" {row['model']['sentence_f1']:.1f} |" if extra else ""
        lines.append(
            f"| {row['variant']} | {row['epoch']} | {cells(row['model'])} |{f1}"
        )
    for name, scores in rows[0]["baselines"].items():
        f1 = f" {scores['sentence_f1']:.1f} |" if extra else ""
        lines.append(f"| {name} | – | {cells(scores)} |{f1}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
