"""Image captioning variants, each trained once as the pipeline trains it and
scored on one or more splits: validation to choose settings, test once for
the configurations that are reported.

Each variant is `python -m pipelines.image_captioning --data DATA --set ...`
trained in its own run folder (a finished run is reused, so a later call can
score another split, or decode differently, without training again). Results
are kept per split in OUT/DATA-SPLIT[-DECODING].json, where each call adds or
replaces its variants' rows. The table gives the epoch kept, the training
time, BLEU-1..4, METEOR, ROUGE-L, CIDEr-D with its 95% interval, the mean
caption length and, on scenes, the grounding accuracy beside the uniform
rate; then the nearest-neighbour baseline on the same images.

    python benchmarks/captioning_variants.py --splits validation test \\
        [--data openmoji] [--variants NAME ...] [--set key=value ...] \\
        [--decode alpha=1.0 beam_size=5 ...] [--out /tmp/captioning]
"""

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT), str(PROJECT / "benchmarks")]

from variant_runs import arguments, run_variants  # noqa: E402

VARIANTS = {
    "default": [],
    "attention=none": ["attention=none"],
    "attention=none, shift=0.05": ["attention=none", "shift=0.05"],
    "attention_regularization=0": ["attention_regularization=0"],
    "shift=0.05": ["shift=0.05"],
    "shift=0.05, attention_regularization=0": [
        "shift=0.05",
        "attention_regularization=0",
    ],
}


def main() -> None:
    args = arguments(__doc__.splitlines()[0], "openmoji", "/tmp/captioning")
    rows = run_variants("image_captioning", args, VARIANTS)
    for split, split_rows in rows.items():
        print(f"\n{split}\n{table(split_rows, split)}")


def table(rows, split: str) -> str:
    def cells(scores):
        grounding = (
            f"{scores['grounding_accuracy']:.1f} (uniform {scores['uniform_rate']:.1f})"
            if "grounding_accuracy" in scores
            else "–"
        )
        meteor = "–" if scores["meteor"] is None else f"{scores['meteor']:.2f}"
        return (
            f"{scores['bleu1']:.2f} | {scores['bleu4']:.2f} | {meteor} | "
            f"{scores['rouge_l']:.2f} | {scores['cider']:.2f} "
            f"[{scores['cider_low']:.2f}, {scores['cider_high']:.2f}] | "
            f"{scores.get('mean_words', float('nan')):.1f} | {grounding}"
        )

    lines = [
        f"| variant | epoch kept | seconds | {split} BLEU-1 | BLEU-4 | METEOR | "
        "ROUGE-L | CIDEr-D [95%] | words | grounding % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seconds = row["seconds"] if row["seconds"] is not None else "reused"
        lines.append(
            f"| {row['variant']} | {row['epoch']} | {seconds} | {cells(row['model'])} |"
        )
    for name, scores in rows[0]["baselines"].items():
        lines.append(f"| {name} | – | – | {cells(scores)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
