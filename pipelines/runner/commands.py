"""The sub-commands: train, evaluate, predict, export, and all of them in a row."""

import json
from pathlib import Path

from pipelines.runner import config as configuration
from pipelines.runner.export import export as export_model
from pipelines.runner.export import load_export, read_metadata
from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.train import figure_files, figure_predictor, in_memory_predictor
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
    data = args.data or fallback or task.default_data
    parse_spec(data)  # fail early on a missing file or unknown name
    return data


def _show(evaluation) -> None:
    print("\n" + evaluation.report + "\n")


def _export_path(task, args) -> Path:
    return Path(args.model) if args.model else _layout(task, args).latest_export()


def _exported_predictor(task, path: Path):
    loaded, metadata = load_export(path)

    def serve(inputs):
        # Looked up on `loaded` at each call, which keeps the restored variables alive.
        return getattr(loaded, task.serving_endpoint)(inputs)

    return batched(serve), metadata


def _refuse(args, command: str, options: tuple[str, ...], why: str) -> None:
    given = [option for option in options if getattr(args, option.strip("-"), None)]
    if given:
        raise UserInputError(f"{command} takes no {', '.join(given)}: {why}")


def train(task, args):
    config = _config(task, args)
    result = train_model(task, config, _data(task, args), _layout(task, args), args.run)
    print(f"best checkpoint: {checkpoint(result.run_dir)}")
    return config, result


def evaluate(task, args):
    _refuse(args, "evaluate", ("--smoke",), "the export's own settings are used")
    path = _export_path(task, args)
    predict, metadata = _exported_predictor(task, path)
    config = _config(task, args, base=metadata.get("config"))
    prepared = task.prepare(config, _data(task, args, metadata.get("data")))
    exported = metadata.get("assets", {})
    for name in task.model_assets:
        if name in exported and prepared.assets.get(name) != exported[name]:
            raise UserInputError(
                f"{path} was trained with {name}={exported[name]!r}, but these settings give "
                f"{prepared.assets.get(name)!r}; drop the --set that changes it"
            )
    print(f"evaluating {path}")
    _show(task.evaluate(predict, prepared, config))


def predict(task, args):
    if not args.inputs and not args.input_file:
        raise UserInputError(f"nothing to predict: pass {task.input_help}")
    path = _export_path(task, args)
    metadata = read_metadata(path)
    inputs = task.read_inputs(args.inputs, args.input_file, metadata)
    run_predictor, _ = _exported_predictor(task, path)
    print(task.format_predictions(inputs, run_predictor(inputs)))


def export(task, args):
    _refuse(
        args,
        "export",
        ("--smoke", "--set", "--config", "--data"),
        "it re-exports a run with the data and settings it was trained with",
    )
    import keras

    layout = _layout(task, args)
    run_dir = layout.run_with_checkpoint(args.run)
    info = json.loads((run_dir / "run.json").read_text())
    config = configuration.resolve(task.Config, base=info["config"])
    prepared = task.prepare(config, info["data"])
    if prepared.fingerprint != info.get("fingerprint"):
        raise UserInputError(
            f"the data {info['data']!r} changed since {run_dir} was trained; "
            "train a new run on it instead"
        )
    model = keras.saving.load_model(checkpoint(run_dir))
    _evaluate_and_export(task, model, prepared, config, layout, info["data"], run_dir)


def _evaluate_and_export(task, model, prepared, config, layout, data, run_dir) -> Path:
    predictor = in_memory_predictor(task, model, prepared)
    evaluation = task.evaluate(predictor, prepared, config)
    _show(evaluation)
    figures = figure_files(task, figure_predictor(task, model, prepared), prepared)
    path = export_model(
        task, model, prepared, config, evaluation, layout, data, run_dir, figures
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
