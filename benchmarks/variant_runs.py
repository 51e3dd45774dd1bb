"""Variants of a generation task, each trained once as its pipeline trains it
and scored on one or more splits, with decoding settings changed for scoring
only; shared by the abstractive summarization and captioning benchmarks.

Each variant is `python -m pipelines.TASK --data DATA --set ...` trained in
its own run folder under OUT (a finished run is reused, so a later call can
score another split, or decode differently, without training again).
Results are kept per split in OUT/DATA-SPLIT[-DECODING].json, where each call
adds or replaces its variants' rows.
"""

import argparse
import csv
import dataclasses
import json
import re
import time
from collections.abc import Callable
from pathlib import Path


def arguments(description: str, data: str, out: str) -> argparse.Namespace:
    """The command line every variant benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--splits", nargs="+", choices=["validation", "test"], required=True
    )
    parser.add_argument("--data", default=data)
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
        help="decoding settings for scoring only, e.g. block_ngram=0 alpha=1.0 "
        "(no retraining)",
    )
    parser.add_argument("--out", type=Path, default=Path(out))
    return parser.parse_args()


def run_variants(
    task_name: str,
    args: argparse.Namespace,
    variants: dict[str, list[str]],
    details: Callable[[Path, int], dict] = lambda run_dir, kept: {},
) -> dict[str, list[dict]]:
    """Trains (or reuses) each of `args.variants` and scores it on every split.

    Args:
        task_name: the task module.
        args: from `arguments`.
        variants: the settings of named variants; any other name is read as
            one setting (e.g. "shift=0.05").
        details: more fields of a row, from the run folder and the kept
            (1-based) epoch.

    Returns:
        The rows of each split, those of earlier calls included.
    """
    from pipelines.runner import config as configuration
    from pipelines.runner.layout import Layout
    from pipelines.runner.train import history, in_memory_predictor, train
    from tasks import get

    task = get(task_name)
    args.out.mkdir(parents=True, exist_ok=True)
    data_name = args.data.replace("/", "_")
    suffix = "".join(f"-{setting}" for setting in args.decode)
    paths = {
        split: args.out / f"{data_name}-{split}{suffix}.json" for split in args.splits
    }
    rows = {split: earlier_rows(path, args.variants) for split, path in paths.items()}
    for name in args.variants:
        config = configuration.resolve(
            task.Config, assignments=[*args.extra, *variants.get(name, [name])]
        )
        run_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
        layout = Layout(args.out / data_name, task.name)
        reused = finished_run(layout.runs / run_name)
        started = time.perf_counter()
        result = train(task, config, args.data, layout, run_name=run_name)
        seconds = time.perf_counter() - started
        decoding = dict(result.prepared.assets["decoding"])
        for setting in args.decode:
            key, _, value = setting.partition("=")
            decoding[key] = type(decoding.get(key, 0.0))(value)
        kept = best_epoch(history(result.run_dir))
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
            predict = in_memory_predictor(
                task, result.model, scored, task.evaluation_endpoint
            )
            evaluation = task.evaluate(predict, scored, config)
            print(f"\n== {name} on {split}\n{evaluation.report}\n", flush=True)
            rows[split].append(
                {
                    "variant": name,
                    "epoch": kept,
                    "seconds": None if reused else round(seconds),
                    "model": evaluation.metrics,
                    "baselines": evaluation.baselines,
                    **details(result.run_dir, kept),
                }
            )
            paths[split].write_text(json.dumps(rows[split], indent=1))
    return rows


def best_epoch(losses: list[float]) -> int:
    """The 1-based epoch with the lowest validation loss."""
    return min(range(len(losses)), key=losses.__getitem__) + 1 if losses else 0


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
