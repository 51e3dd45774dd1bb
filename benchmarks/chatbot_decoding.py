"""Decoding settings of a trained chatbot run, scored on one split without
retraining: the choice of the default decoding is made on validation.

Each variant is a list of settings of the chatbot's Config that shape the
decoding (decoding, beam_size, length_penalty, block_ngram, top_p,
temperature, repetition_penalty, min_length); the run's model is decoded with
each and scored as `evaluate` scores the test split (perplexity does not
depend on the decoding). The table is Markdown, for BENCHMARKS.md.

    python benchmarks/chatbot_decoding.py RUN_DIR --split validation \\
        [--examples 2000] [--variants "decoding=beam" "decoding=sample" ...]
"""

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT)]

VARIANTS = [
    "decoding=beam",
    "decoding=beam length_penalty=1.0 min_length=5",
    "decoding=beam beam_size=1",
    "decoding=sample",
    "decoding=sample temperature=1.0",
    "decoding=sample top_p=0.5 temperature=0.7",
]
COLUMNS = ("bleu2", "chrf", "distinct1", "distinct2", "blandness", "mean_length")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished chatbot run folder")
    parser.add_argument("--split", choices=["validation", "test"], required=True)
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    args = parser.parse_args()

    import keras

    from pipelines.runner import config as configuration
    from pipelines.runner.layout import checkpoint
    from pipelines.runner.train import in_memory_predictor
    from tasks.chatbot import TASK

    record = json.loads((args.run / "run.json").read_text())
    config = configuration.resolve(TASK.Config, base=record["config"])
    prepared = TASK.prepare(config, record["data"])
    model = keras.saving.load_model(checkpoint(args.run))
    rows = []
    for variant in args.variants:
        settings = configuration.resolve(
            TASK.Config, base=config.to_dict(), assignments=variant.split()
        )
        scored = dataclasses.replace(
            prepared,
            splits={**prepared.splits, "test": prepared.splits[args.split]},
            assets={**prepared.assets, "decoding": settings.decoding_options()},
            serving={},
        )
        settings = dataclasses.replace(settings, test_examples=args.examples)
        started = time.perf_counter()
        predict = in_memory_predictor(TASK, model, scored, TASK.evaluation_endpoint)
        metrics = TASK.evaluate(predict, scored, settings).metrics
        seconds = time.perf_counter() - started
        rows.append((variant, metrics, seconds))
        print(f"{variant}: {json.dumps(metrics)}", flush=True)
    print(f"\n{args.split}, first {args.examples} examples, run {args.run.name}")
    print("| decoding | " + " | ".join(COLUMNS) + " | seconds |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for variant, metrics, seconds in rows:
        cells = " | ".join(f"{metrics[name]:.2f}" for name in COLUMNS)
        print(f"| `{variant}` | {cells} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
