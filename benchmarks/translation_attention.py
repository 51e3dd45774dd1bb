"""Luong et al. (2015), Table 1, on the bundled Bible verses: which attention helps.

Trains the translation model with no attention, global attention (dot,
general, concat), local-m and local-p at the same budget: the default settings
of `python -m pipelines.translation` (same data, seed, epochs and early
stopping), each keeping its epoch of lowest validation loss as the pipeline
does. Each is then scored on the test split: perplexity of the references, and
BLEU and chrF (sacrebleu) of its beam-search translations. The table is printed
and written into BENCHMARKS.md between the markers of this benchmark.

    python benchmarks/translation_attention.py [--set key=value ...]
        [--data bible_parallel] [--no-write]
"""

import argparse
import math
import os
import re
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from pipelines.runner.config import resolve  # noqa: E402
from pipelines.runner.train import in_memory_predictor  # noqa: E402
from tasks.translation import TASK, copy_source_scores  # noqa: E402

SYSTEMS = {
    "Base (no attention)": {"attention": "none"},
    "+ global (dot)": {"attention": "global", "score": "dot"},
    "+ global (general)": {"attention": "global", "score": "general"},
    "+ global (concat)": {"attention": "global", "score": "concat"},
    "+ local-m (general)": {"attention": "local", "local_mode": "monotonic"},
    "+ local-p (general)": {"attention": "local", "local_mode": "predictive"},
}
BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
START, END = (
    "<!-- translation-attention:start -->",
    "<!-- translation-attention:end -->",
)


def test_perplexity(model, prepared) -> float:
    """Perplexity of the test references (the prepared test batches)."""
    loss = model.evaluate(prepared.test, verbose=0, return_dict=True)["loss"]
    return math.exp(loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=TASK.default_data)
    parser.add_argument("--set", nargs="*", default=[], help="extra key=value settings")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    base = resolve(TASK.Config, assignments=args.set)
    prepared = TASK.prepare(base, args.data)
    rows = []
    for system, settings in SYSTEMS.items():
        config = resolve(
            TASK.Config,
            base=base.to_dict(),
            assignments=[f"{key}={value}" for key, value in settings.items()],
        )
        keras.utils.set_random_seed(config.seed)
        model = TASK.build_model(config, prepared)
        print(f"{system}: training {config.epochs} epochs")
        start = time.perf_counter()
        best_epoch = keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True
        )
        history = model.fit(
            prepared.train,
            validation_data=prepared.validation,
            epochs=config.epochs,
            callbacks=[best_epoch],
            verbose=2,
            shuffle=False,
        )
        minutes = (time.perf_counter() - start) / 60
        losses = history.history["val_loss"]
        epoch = f"{losses.index(min(losses)) + 1} of {len(losses)}"
        predict = in_memory_predictor(TASK, model, prepared)
        scores = TASK.evaluate(predict, prepared, config).metrics
        perplexity = test_perplexity(model, prepared)
        rows.append(
            (system, perplexity, scores["bleu"], scores["chrf"], epoch, minutes)
        )
        print(
            f"{system}: ppl {perplexity:.1f} BLEU {scores['bleu']:.2f} "
            f"chrF {scores['chrf']:.2f} ({minutes:.1f} min)"
        )

    test_pairs = len(prepared.splits["test"])
    copy = copy_source_scores(prepared.splits["test"])
    settings = " ".join(args.set) or "the defaults"
    lines = [
        START,
        "```bash",
        f"python benchmarks/translation_attention.py{' --set ' + ' '.join(args.set) if args.set else ''}",
        "```",
        "",
        f"Data `{args.data}`, {len(prepared.splits['train']):,} training pairs, "
        f"{test_pairs:,} test pairs (verses of at most {base.max_length} tokens). "
        f"Same budget for every system ({settings}): seed {base.seed}, "
        f"{base.units} units, bidirectional {base.cell.upper()} encoder, at most "
        f"{base.epochs} epochs of {base.batch_size} pairs, the epoch of lowest "
        f"validation loss kept (patience {base.patience}); beam {base.beam_size} "
        f"with length penalty {base.length_penalty}. Test perplexity of the "
        "references; BLEU and chrF of the translations (sacrebleu, cased); the "
        f"copy-the-source baseline scores BLEU {copy['bleu']:.2f}, chrF "
        f"{copy['chrf']:.2f}.",
        "",
        "| system | test ppl | BLEU | chrF | best epoch | training minutes |",
        "|---|---|---|---|---|---|",
        *(
            f"| {system} | {ppl:.1f} | {bleu:.2f} | {chrf:.2f} | {epoch} | {minutes:.1f} |"
            for system, ppl, bleu, chrf, epoch, minutes in rows
        ),
        END,
    ]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        text = BENCHMARKS.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
        if pattern.search(text):
            text = pattern.sub(lambda _: table, text)
        else:
            text = (
                text.rstrip()
                + "\n\n## Translation: attention variants\n\n"
                + table
                + "\n"
            )
        BENCHMARKS.write_text(text)
        print(f"written into {BENCHMARKS}")


if __name__ == "__main__":
    main()
