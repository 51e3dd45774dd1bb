"""The sub-commands: train, evaluate, predict, export, and all of them in a row."""

import contextlib
import json
from pathlib import Path

from pipelines.runner import assets as stored
from pipelines.runner import config as configuration
from pipelines.runner import init_from
from pipelines.runner.cli import Interrupted
from pipelines.runner.export import export as export_model
from pipelines.runner.export import load_export, read_metadata
from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.train import (
    figure_files,
    figure_predictor,
    in_memory_predictor,
    write_json,
)
from pipelines.runner.train import train as train_model
from recurrent.data.sources import parse_spec
from recurrent.errors import UserInputError
from tasks.base import batched


def _layout(task, args) -> Layout:
    return Layout(Path(args.output), task.name)


def _config(task, args, base=None):
    return configuration.resolve(
        task.Config,
        smoke=args.smoke,
        config_file=args.config,
        assignments=args.set,
        base=base,
    )


def _data(task, args, fallback=None) -> str:
    """The data spec, checked; a file or folder is named by its absolute path,
    so a run and its re-export do not depend on how or where it was typed."""
    spec = parse_spec(args.data or fallback or task.default_data)
    local = spec.kind in ("file", "folder")
    return str(Path(spec.name).resolve()) if local else str(spec)


@contextlib.contextmanager
def interrupted_means(message: str):
    """Ctrl-C inside the block reports `message` (what happened to the files)."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(message) from None


def _show(evaluation) -> None:
    print("\n" + evaluation.report + "\n")


def _export_path(task, args) -> Path:
    return Path(args.model) if args.model else _layout(task, args).latest_export()


def _exported_predictor(task, path: Path, endpoint: str | None = None):
    loaded, metadata = load_export(path, task.name)
    endpoint = endpoint or task.serving_endpoint

    def serve(inputs):
        # Looked up on `loaded` at each call, which keeps the restored variables alive.
        return getattr(loaded, endpoint)(inputs)

    return batched(serve), metadata


def train(task, args):
    config = _config(task, args)
    layout, data = _layout(task, args), _data(task, args)
    source = (
        init_from.resolve(task, args.init_from, layout)
        if getattr(args, "init_from", None)
        else None
    )
    with interrupted_means("run the same command again to resume training"):
        result = train_model(task, config, data, layout, args.run, source)
    print(f"best checkpoint: {checkpoint(result.run_dir)}")
    return config, result


def _check_assets(task, args, path: Path, exported: dict, prepared, data: str):
    """Refuses to score an export on data or settings that change its inputs or
    outputs (labels, window sizes...)."""
    for name in task.model_assets:
        if name in exported and prepared.assets.get(name) != exported[name]:
            fix = (
                "drop the --set or --config that changes it"
                if args.set or args.config
                else f"evaluate it on data with the same {name}"
            )
            raise UserInputError(
                f"{path} was trained with {name}={exported[name]!r}, but {data} with "
                f"these settings gives {prepared.assets.get(name)!r}; {fix}"
            )


def evaluate(task, args):
    path = _export_path(task, args)
    predict, metadata = _exported_predictor(task, path, task.evaluation_endpoint)
    config = _config(task, args, base=metadata.get("config"))
    data = _data(task, args, metadata.get("data"))
    inherited = init_from.own_inherited(task, path, metadata)
    prepared = init_from.prepare(task, config, data, inherited)
    _check_assets(task, args, path, metadata.get("assets", {}), prepared, data)
    print(f"evaluating {path}")
    _show(task.evaluate(predict, prepared, config))


def _check_utf8(values) -> None:
    """Command-line words that are not UTF-8 arrive as lone surrogates."""
    for number, value in enumerate(values, start=1):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise UserInputError(
                f"input {number} is not valid UTF-8 text; pass UTF-8 (a file in "
                "another encoding: iconv -f ENCODING -t UTF-8 FILE)"
            ) from None


def predict(task, args):
    if not args.inputs and not args.input_file:
        raise UserInputError(f"nothing to predict: pass {task.input_help}")
    _check_utf8(args.inputs)
    path = _export_path(task, args)
    metadata = read_metadata(path, task.name)
    inputs = task.read_inputs(args.inputs, args.input_file, metadata)
    run_predictor, _ = _exported_predictor(task, path)
    print(task.format_predictions(inputs, run_predictor(inputs)))


def export(task, args):
    import keras

    layout = _layout(task, args)
    run_dir = layout.run_with_checkpoint(args.run)
    info = json.loads((run_dir / "run.json").read_text())
    config = configuration.resolve(task.Config, base=info["config"])
    inherited = init_from.own_inherited(task, run_dir, info)
    prepared = init_from.prepare(task, config, info["data"], inherited)
    if prepared.fingerprint != info.get("fingerprint"):
        raise UserInputError(
            f"the data {info['data']!r} changed since {run_dir} was trained; "
            "train a new run on it instead"
        )
    if not (run_dir / init_from.ASSETS).is_file():  # a run from before assets.json
        write_json(run_dir / init_from.ASSETS, stored.to_json(prepared.assets))
    model = keras.saving.load_model(checkpoint(run_dir))
    _evaluate_and_export(task, model, prepared, config, layout, info["data"], run_dir)


def _evaluate_and_export(task, model, prepared, config, layout, data, run_dir) -> Path:
    with interrupted_means(
        "the export was stopped before it was complete, so nothing was published; "
        f"run `python -m pipelines.{task.name} export` to export the trained run"
    ):
        predictor = in_memory_predictor(task, model, prepared, task.evaluation_endpoint)
        evaluation = task.evaluate(predictor, prepared, config)
        _show(evaluation)
        figures = figure_files(task, figure_predictor(task, model, prepared), prepared)
        samples = task.samples(predictor, prepared)
        path = export_model(
            task,
            model,
            prepared,
            config,
            evaluation,
            layout,
            data,
            run_dir,
            figures,
            samples,
        )
    print(f"exported {path}")
    return path


def run_all(task, args):
    config, result = train(task, args)
    path = _evaluate_and_export(
        task,
        result.model,
        result.prepared,
        config,
        _layout(task, args),
        _data(task, args),
        result.run_dir,
    )
    samples = task.sample_inputs(result.prepared)
    if samples:
        run_exported, _ = _exported_predictor(task, path)
        print("the export on a few test inputs:")
        print(task.format_predictions(samples, run_exported(samples)))
