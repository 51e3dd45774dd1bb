"""The sub-commands: train, evaluate, predict, export, and all of them in a row."""

import json
from pathlib import Path

from pipelines.runner import config as configuration
from pipelines.runner.cli import read_input_file
from pipelines.runner.export import export as export_model
from pipelines.runner.export import load_export
from pipelines.runner.layout import Layout, checkpoint
from pipelines.runner.train import in_memory_predictor
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


def train(task, args):
    config = _config(task, args)
    result = train_model(task, config, _data(task, args), _layout(task, args), args.run)
    print(f"best checkpoint: {checkpoint(result.run_dir)}")
    return config, result


def _exported_predictor(task, path: Path):
    loaded, metadata = load_export(path)
    # The lambda keeps `loaded` alive: its functions need the restored variables.
    return batched(lambda inputs: loaded.serve(inputs)), metadata


def _export_path(task, args) -> Path:
    return Path(args.model) if args.model else _layout(task, args).latest_export()


def evaluate(task, args):
    path = _export_path(task, args)
    predict, metadata = _exported_predictor(task, path)
    config = _config(task, args, base=metadata.get("config"))
    prepared = task.prepare(config, _data(task, args, metadata.get("data")))
    print(f"evaluating {path}")
    _show(task.evaluate(predict, prepared, config))


def predict(task, args):
    values = list(args.inputs)
    if args.input_file:
        values += read_input_file(args.input_file)
    inputs = task.read_inputs(values)
    path = _export_path(task, args)
    run_predictor, _ = _exported_predictor(task, path)
    print(task.format_predictions(inputs, run_predictor(inputs)))


def export(task, args):
    layout = _layout(task, args)
    run_dir = layout.run(args.run) if args.run else layout.latest_run()
    info_file = run_dir / "run.json"
    if not info_file.is_file() or not checkpoint(run_dir).is_file():
        raise UserInputError(
            f"{run_dir} holds no finished checkpoint; train it first with "
            f"`python -m pipelines.{task.name} train`"
        )
    import keras

    info = json.loads(info_file.read_text())
    config = _config(task, args, base=info["config"])
    data = _data(task, args, info["data"])
    prepared = task.prepare(config, data)
    model = keras.saving.load_model(checkpoint(run_dir))
    evaluation = task.evaluate(
        in_memory_predictor(task, model, prepared), prepared, config
    )
    _show(evaluation)
    path = export_model(
        task, model, prepared, config, evaluation, layout, data, run_dir
    )
    print(f"exported {path}")


def run_all(task, args):
    config, result = train(task, args)
    data = _data(task, args)
    predictor = in_memory_predictor(task, result.model, result.prepared)
    evaluation = task.evaluate(predictor, result.prepared, config)
    _show(evaluation)
    path = export_model(
        task,
        result.model,
        result.prepared,
        config,
        evaluation,
        _layout(task, args),
        data,
        result.run_dir,
    )
    print(f"exported {path}")
    samples = task.sample_inputs(result.prepared)
    if samples:
        run_exported, _ = _exported_predictor(task, path)
        print("the export on a few test inputs:")
        print(task.format_predictions(samples, run_exported(samples)))
