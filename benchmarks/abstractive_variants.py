"""Abstractive summarization variants, each trained once as the pipeline
trains it and scored on one or more splits: validation to choose settings,
test once for the configurations that are reported.

Each variant is `python -m pipelines.abstractive_summarization --data DATA
--set ...` trained in its own run folder (a finished run is reused, so a
later call can score another split without training again). Results are
kept per split in OUT/DATA-SPLIT.json, where each call adds or replaces its
variants' rows. The table gives
the epoch kept, the epoch coverage training started, ROUGE-1/2/L F1 (the
ROUGE-2 interval), the repeated-trigram rate, novel bigrams and the mean
length, then the baselines (Lead-1, TextRank) on the same documents.

    python benchmarks/abstractive_variants.py --splits validation test \\
        [--data bbc_summaries] [--variants NAME ...] [--set key=value ...] \\
        [--decode block_ngram=0 ...] [--out /tmp/abstractive]
"""

import argparse
import csv
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "benchmarks")]

VARIANTS = {
    "default": [],
    "output=vocabulary": ["output=vocabulary"],
    "coverage=false": ["coverage=false"],
    "output=switch": ["output=switch"],
    "latent=gaussian": ["latent=gaussian"],
    "output=vocabulary, coverage=false": ["output=vocabulary", "coverage=false"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--splits", nargs="+", choices=["validation", "test"], required=True
    )
    parser.add_argument("--data", default="bbc_summaries")
    parser.add_argument("--variants", nargs="*", default=["default"])
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        dest="extra",
        help="settings of every variant (a variant's own settings win)",
    )
    parser.add_argument(
        "--decode",
        nargs="*",
        default=[],
        help="decoding settings for scoring only, e.g. block_ngram=0 (no retraining)",
    )
    parser.add_argument("--out", type=Path, default=Path("/tmp/abstractive"))
    args = parser.parse_args()

    from summarization_variants import best_epoch

    from pipelines.runner import config as configuration
    from pipelines.runner.layout import Layout
    from pipelines.runner.train import history, in_memory_predictor, train
    from tasks import get

    task = get("abstractive_summarization")
    args.out.mkdir(parents=True, exist_ok=True)
    data_name = args.data.replace("/", "_")
    suffix = "".join(f"-{setting}" for setting in args.decode)
    paths = {
        split: args.out / f"{data_name}-{split}{suffix}.json" for split in args.splits
    }
    rows = {split: earlier_rows(path, args.variants) for split, path in paths.items()}
    for name in args.variants:
        config = configuration.resolve(
            task.Config, assignments=[*args.extra, *VARIANTS.get(name, [name])]
        )
        run_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
        layout = Layout(args.out / data_name, task.name)
        reused = finished_run(layout.runs / run_name)
        started = time.perf_counter()
        result = train(
            task,
            config,
            args.data,
            layout,
            run_name=run_name,
        )
        seconds = time.perf_counter() - started
        epochs = read_history(result.run_dir)
        decoding = dict(result.prepared.assets["decoding"])
        for setting in args.decode:
            key, _, value = setting.partition("=")
            decoding[key] = type(decoding[key])(value)
        for split in args.splits:
            scored = dataclasses.replace(
                result.prepared,
                splits={
                    **result.prepared.splits,
                    "test": result.prepared.splits[split],
                },
                assets={**result.prepared.assets, "decoding": decoding},
                serving={},
            )
            predict = in_memory_predictor(task, result.model, scored)
            evaluation = task.evaluate(predict, scored, config)
            print(f"\n== {name} on {split}\n{evaluation.report}\n", flush=True)
            rows[split].append(
                {
                    "variant": name,
                    "epoch": best_epoch(history(result.run_dir)),
                    "coverage_from": coverage_start(epochs),
                    "kl": kept_kl(epochs, best_epoch(history(result.run_dir))),
                    "seconds": None if reused else round(seconds),
                    "model": evaluation.metrics,
                    "baselines": evaluation.baselines,
                }
            )
            paths[split].write_text(json.dumps(rows[split], indent=1))
    for split, split_rows in rows.items():
        print(f"\n{split}\n{table(split_rows, split)}")


def earlier_rows(path: Path, variants: list[str]) -> list[dict]:
    """The rows an earlier call wrote to `path` for other variants: each call
    adds its variants to the table (and replaces their older rows)."""
    if not path.exists():
        return []
    return [
        row for row in json.loads(path.read_text()) if row["variant"] not in variants
    ]


def finished_run(run_dir: Path) -> bool:
    """Whether an earlier call already trained this run to the end."""
    record = run_dir / "run.json"
    return record.exists() and json.loads(record.read_text()).get("finished", False)


def read_history(run_dir: Path) -> list[dict[str, float]]:
    """The rows of a run's history.csv, as numbers."""
    with (run_dir / "history.csv").open() as stream:
        return [
            {key: float(value) for key, value in row.items() if value}
            for row in csv.DictReader(stream)
        ]


def kept_kl(epochs: list[dict[str, float]], kept: int) -> float | None:
    """The validation KL (nats) of the kept 1-based epoch; None without a latent."""
    return epochs[kept - 1].get("val_kl") if kept else None


def coverage_start(epochs: list[dict[str, float]]) -> int:
    """The first 1-based epoch trained with the coverage loss (0: none)."""
    for number, row in enumerate(epochs, start=1):
        if row.get("coverage_active", 0) > 0:
            return number
    return 0


def table(rows, split: str) -> str:
    def cells(scores):
        return (
            f"{scores['rouge1']:.2f} | {scores['rouge2']:.2f} "
            f"[{scores['rouge2_low']:.2f}, {scores['rouge2_high']:.2f}] | "
            f"{scores['rougeL']:.2f} | {scores['repeated_trigrams']:.1f} | "
            f"{scores['novel_2grams']:.1f} | {scores['mean_words']:.1f}"
        )

    lines = [
        f"| variant | epoch kept | coverage from | {split} ROUGE-1 | ROUGE-2 [95%] | "
        "ROUGE-L | repeated trigrams % | novel bigrams % | words |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        start = row["coverage_from"] or "–"
        name = row["variant"]
        if row["kl"] is not None:
            name += f" (validation KL {row['kl']:.2f} nats)"
        lines.append(f"| {name} | {row['epoch']} | {start} | {cells(row['model'])} |")
    for name, scores in rows[0]["baselines"].items():
        lines.append(f"| {name} | – | – | {cells(scores)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
