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

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "benchmarks")]

from variant_runs import arguments, read_history, run_variants  # noqa: E402

VARIANTS = {
    "default": [],
    "output=vocabulary": ["output=vocabulary"],
    "coverage=false": ["coverage=false"],
    "output=switch": ["output=switch"],
    "latent=gaussian": ["latent=gaussian"],
    "output=vocabulary, coverage=false": ["output=vocabulary", "coverage=false"],
}


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "bbc_summaries", "/tmp/abstractive")

    def details(run_dir, kept):
        epochs = read_history(run_dir)
        return {"coverage_from": coverage_start(epochs), "kl": kept_kl(epochs, kept)}

    rows = run_variants("abstractive_summarization", args, VARIANTS, details)
    for split, split_rows in rows.items():
        print(f"\n{split}\n{table(split_rows, split)}")


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
