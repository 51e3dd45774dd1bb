"""`--init-from`: a run that starts from another run's or export's weights and
fitted preprocessing, and one clear refusal for a source it cannot use."""

import argparse
import dataclasses
import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import tasks
from pipelines.runner import assets as stored
from pipelines.runner import commands, init_from
from pipelines.runner.cli import parse
from pipelines.runner.layout import Layout
from pipelines.runner.train import default_run_name
from recurrent.data.tokenizers import fit_vocabulary, word_vectorizer
from recurrent.errors import UserInputError
from recurrent.generation import Vocabulary
from tasks.text_classification import TASK
from tests.pipelines.pipeline_process import run_pipeline

NAME = TASK.name
SOURCE_WORDS = {
    "cooking": "recipe oven flour butter bake simmer",
    "football": "goal striker match referee league penalty",
    "markets": "shares profit investors bank stocks bonds",
}
# Other words, and one label fewer: fine-tuning data of the same task.
TUNING_WORDS = {
    "cooking": "whisk pan salt sugar roast",
    "football": "keeper pitch coach goal",
}


def _write_texts(path, words: dict[str, str], count: int) -> str:
    rows = [
        {
            "text": f"{' '.join(np.roll(words[label].split(), i))} story {i}",
            "label": label,
        }
        for i in range(count)
        for label in words
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A smoke run on one small file: its run folder and its export."""
    folder = tmp_path_factory.mktemp("init_from")
    data = _write_texts(folder / "source.csv", SOURCE_WORDS, 40)
    output = folder / "out"
    run_pipeline(NAME, "--smoke", "--data", data, "--set", "epochs=1", output=output)
    (run_dir,) = (output / NAME / "runs").iterdir()
    return {"output": output, "run": run_dir, "export": output / NAME / "1"}


@pytest.fixture(scope="module")
def tuning_data(tmp_path_factory):
    return _write_texts(tmp_path_factory.mktemp("tuning") / "b.csv", TUNING_WORDS, 30)


def _vocabulary(folder) -> list[str]:
    document = json.loads((folder / "assets.json").read_text())
    return document["assets"]["vectorizer"]["keras"]["config"]["vocabulary"]


def _weights(path) -> list[np.ndarray]:
    return keras.saving.load_model(path, compile=False).get_weights()


def _train_args(output, data, init, *settings, run=None) -> argparse.Namespace:
    return argparse.Namespace(
        output=str(output),
        data=data,
        config=None,
        set=list(settings),
        smoke=True,
        run=run,
        init_from=str(init),
    )


def test_fine_tuning_starts_from_the_source_weights_and_preprocessing(
    source, tuning_data
):
    # A learning rate too small to move a weight: the run keeps the source's.
    result = run_pipeline(
        NAME,
        "--smoke",
        "--data",
        tuning_data,
        "--init-from",
        source["run"].name,
        "--set",
        "learning_rate=1e-30",
        "epochs=1",
        output=source["output"],
    )
    assert f"starting from the run {source['run']}: its weights" in result.stdout
    (run_dir,) = set((source["output"] / NAME / "runs").iterdir()) - {source["run"]}
    for tuned, original in zip(
        _weights(run_dir / "checkpoint.keras"),
        _weights(source["run"] / "checkpoint.keras"),
        strict=True,
    ):
        np.testing.assert_allclose(tuned, original, atol=1e-6)
    assert _vocabulary(run_dir) == _vocabulary(source["run"])
    assert "whisk" not in _vocabulary(run_dir)
    record = json.loads((run_dir / "run.json").read_text())["init_from"]
    assert record["path"] == str(source["run"]) and record["kind"] == "run"
    metadata = json.loads((source["output"] / NAME / "2" / "metadata.json").read_text())
    assert metadata["init_from"] == record
    assert metadata["assets"]["labels"] == sorted(SOURCE_WORDS)


def test_a_run_starts_from_an_export_folder_too(source, tuning_data):
    """What the runner does before the first epoch, from an export folder."""
    layout = Layout(source["output"], NAME)
    origin = init_from.resolve(TASK, str(source["export"]), layout)
    assert origin.record["kind"] == "export"
    config = TASK.Config().tiny()
    prepared = init_from.prepare(TASK, config, tuning_data, origin.inherited(TASK))
    init_from.check_preprocessing(TASK, origin, prepared)
    vocabulary = prepared.assets["vectorizer"].get_vocabulary()
    assert vocabulary == _vocabulary(source["export"])
    model = TASK.build_model(config, prepared)
    source_model = init_from.compatible_model(origin, model, config)
    init_from.initialise(TASK, origin, model, source_model)
    for mine, theirs in zip(
        model.get_weights(), _weights(source["export"] / "model.keras"), strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)
    # Never the run that the same data and settings give from scratch.
    scratch = default_run_name(TASK, config, tuning_data)
    assert default_run_name(TASK, config, tuning_data, origin.record) != scratch


def test_a_model_of_another_size_is_refused_naming_the_setting(
    source, tuning_data, tmp_path
):
    args = _train_args(tmp_path, tuning_data, source["run"], "units=4")
    with pytest.raises(UserInputError) as refusal:
        commands.train(TASK, args)
    message = str(refusal.value)
    assert f"this model cannot start from {source['run']}: weight encoder/" in message
    assert "units=4 (the source has units=8)" in message
    assert "(the source's: --set units=8)" in message
    assert not list((tmp_path / NAME / "runs").glob("*/run.json"))


def test_a_path_that_is_no_run_or_export_is_refused(source, tmp_path):
    layout = Layout(source["output"], NAME)
    with pytest.raises(UserInputError, match="is neither a run .* nor an export"):
        init_from.resolve(TASK, str(tmp_path), layout)
    with pytest.raises(UserInputError, match="is neither a folder nor a run of"):
        init_from.resolve(TASK, "no-such-run", layout)


def test_a_source_of_another_task_or_without_assets_is_refused(source, tmp_path):
    layout = Layout(source["output"], NAME)
    copy = tmp_path / "copy"
    shutil.copytree(source["export"], copy)
    (copy / "assets.json").unlink()
    with pytest.raises(UserInputError, match="has no assets.json .* re-export its run"):
        init_from.resolve(TASK, str(copy), layout)
    metadata = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps(metadata | {"task": "forecasting"}))
    with pytest.raises(UserInputError, match="is an export of 'forecasting', not"):
        init_from.resolve(TASK, str(copy), layout)


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "--init-from", "x", "some text"],
        ["evaluate", "--init-from", "x"],
        ["export", "--init-from", "x"],
    ],
)
def test_commands_that_do_not_train_refuse_init_from(argv):
    with pytest.raises(UserInputError, match=f"^{argv[0]} takes no --init-from: "):
        parse(NAME, argv)


def test_train_and_the_full_run_take_init_from():
    assert parse(NAME, ["train", "--init-from", "r"]).init_from == "r"
    assert parse(NAME, ["--init-from", "r"]).init_from == "r"


def test_assets_json_round_trips_a_vocabulary_exactly():
    vocabulary = Vocabulary.fit(
        ["the red dog .", "a cat , a dog"], 20, {"start": "[S]"}
    )
    vectorizer = fit_vocabulary(word_vectorizer(50, None), ["The cat sat.", "a dog"])
    assets = {"vocabulary": vocabulary, "vectorizer": vectorizer, "labels": ["a", "b"]}
    back = stored.from_json(json.loads(json.dumps(stored.to_json(assets))))
    assert back["vocabulary"].tokens == vocabulary.tokens
    assert back["vocabulary"].get_config() == vocabulary.get_config()
    assert back["vectorizer"].get_vocabulary() == vectorizer.get_vocabulary()
    texts = tf.constant(["the dog sat , a zebra", "cat"])
    np.testing.assert_array_equal(back["vocabulary"](texts), vocabulary(texts))
    np.testing.assert_array_equal(back["vectorizer"](texts), vectorizer(texts))
    assert back["labels"] == ["a", "b"]
    assert all(stored.same(assets[name], back[name]) for name in assets)


def _series(path, hours: int, level: float) -> str:
    time = pd.date_range("2020-01-01", periods=hours, freq="h")
    load = level + 10 * np.sin(2 * np.pi * np.arange(hours) / 24)
    pd.DataFrame({"time": time.astype(str), "load": load}).to_csv(path, index=False)
    return str(path)


def test_a_forecaster_keeps_the_source_scaling_and_refuses_other_inputs(tmp_path):
    forecasting = tasks.get("forecasting")
    config = dataclasses.replace(
        forecasting.Config().tiny(), target="load", features=("load",)
    )
    first = forecasting.prepare(config, _series(tmp_path / "a.csv", 300, 50.0))
    inherited = {name: first.assets[name] for name in forecasting.inherited_assets}
    other = _series(tmp_path / "b.csv", 300, 500.0)
    tuned = forecasting.prepare(config, other, inherited=inherited)
    assert tuned.assets["scale_mean"] == first.assets["scale_mean"]
    assert (
        forecasting.prepare(config, other).assets["scale_mean"]
        != (first.assets["scale_mean"])
    )
    without_calendar = dataclasses.replace(config, calendar=False)
    with pytest.raises(UserInputError, match="reads the inputs .* but .* gives"):
        forecasting.prepare(without_calendar, other, inherited=inherited)


def test_a_classifier_refuses_labels_its_source_does_not_know(source, tmp_path):
    origin = init_from.resolve(TASK, str(source["run"]), Layout(source["output"], NAME))
    data = _write_texts(
        tmp_path / "new.csv", {"weather": "rain sun", **TUNING_WORDS}, 20
    )
    with pytest.raises(UserInputError, match=r"not trained on: \['weather'\]"):
        TASK.prepare(TASK.Config().tiny(), data, inherited=origin.inherited(TASK))
