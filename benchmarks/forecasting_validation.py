"""Scores a forecasting configuration on the VALIDATION split, beside its baselines.

Settings are chosen here, so that the test split is scored once per reported
configuration (`python -m pipelines.forecasting`). The model is trained as the
pipeline trains it (same runner, same run folder naming: a finished run is
reused), then every validation origin is forecast by the model, naive,
seasonal naive and Holt-Winters fitted on the training part.

    python benchmarks/forecasting_validation.py [--data SPEC] [--set key=value ...]
        [--output DIR]
"""

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.runner import config as configuration  # noqa: E402
from pipelines.runner.layout import Layout  # noqa: E402
from pipelines.runner.train import in_memory_predictor, train  # noqa: E402
from recurrent.data.sources import parse_spec  # noqa: E402
from tasks.forecasting import TASK  # noqa: E402


def validation_view(prepared):
    """`prepared` with the validation part in the place of the test part (and no
    validation part), so `evaluate` scores validation origins, the baselines
    seeing the same history as they would there."""
    splits = prepared.splits
    return dataclasses.replace(
        prepared,
        splits={
            "train": splits["train"],
            "validation": splits["validation"].iloc[:0],
            "test": splits["validation"],
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=TASK.default_data)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--output", default="saved_models")
    args = parser.parse_args()
    config = configuration.resolve(TASK.Config, assignments=args.set)
    spec = parse_spec(args.data)
    data = str(Path(spec.name).resolve()) if spec.kind == "file" else str(spec)
    result = train(TASK, config, data, Layout(Path(args.output), TASK.name))
    predict = in_memory_predictor(TASK, result.model, result.prepared)
    evaluation = TASK.evaluate(predict, validation_view(result.prepared), config)
    print(f"\nsettings: {' '.join(args.set) or '(defaults)'}; run {result.run_dir}")
    print(evaluation.report.replace("test period", "VALIDATION period"))
    metrics = evaluation.metrics
    print(
        f"validation MAE {metrics['mae']:.3f}; ratio to seasonal naive "
        f"{metrics['mae_ratio_to_seasonal_naive']:.3f}, to Holt-Winters "
        f"{metrics['mae_ratio_to_holt_winters']:.3f}; 80% coverage "
        f"{metrics.get('coverage_80', float('nan')):.3f}"
    )


if __name__ == "__main__":
    main()
