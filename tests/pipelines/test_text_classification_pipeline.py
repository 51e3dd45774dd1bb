"""End to end: the pipeline in subprocesses, its export in a process that cannot
import the project, its TensorBoard logs through TensorBoard's own reader."""

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import tasks
from tests.pipelines.pipeline_process import (
    PROJECT,
    run_pipeline,
    run_without_project,
    start_pipeline,
)

TASK = "text_classification"
TOPICS = ["business", "entertainment", "politics", "sports", "tech"]
TEXTS = [
    "The striker scored twice as the club won the cup final at Wembley.",
    "Shares in the bank fell after it reported lower quarterly profits.",
    "The new phone has a faster chip and a better camera for gamers.",
]
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
outputs = model.serve(tf.constant(sys.argv[2:]))
print(json.dumps({
    "labels": [label.decode() for label in outputs["label"].numpy()],
    "probabilities": outputs["probabilities"].numpy().tolist(),
}))
"""


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    output = tmp_path_factory.mktemp("smoke")
    return output, run_pipeline(TASK, "--smoke", output=output)


def test_smoke_run_trains_evaluates_and_exports_atomically(smoke):
    output, result = smoke
    export = output / TASK / "1"
    assert (export / "saved_model.pb").is_file()
    assert (export / "model.keras").is_file()
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["version"] == 1 and metadata["data"] == "bbc_news"
    assert {"accuracy", "macro_f1", "confusion_matrix"} <= set(metadata["metrics"])
    assert metadata["baselines"]["tfidf_logreg"]["accuracy"] > 0.95
    assert metadata["config"]["max_batches"] == 3 and metadata["seed"] == 1234
    assert re.fullmatch("[0-9a-f]{64}", metadata["data_fingerprint"])
    assert metadata["versions"]["tensorflow"].startswith("2.")
    assert metadata["assets"]["labels"] == TOPICS
    leftovers = [
        path.name for path in (output / TASK).iterdir() if path.name.startswith(".")
    ]
    assert not leftovers
    assert "tfidf_logreg" in result.stdout
    assert "the export on a few test inputs" in result.stdout


def test_the_export_classifies_raw_strings_where_the_project_cannot_be_imported(
    smoke, tmp_path
):
    output, _ = smoke
    result = run_without_project(CLIENT, str(output / TASK / "1"), *TEXTS, cwd=tmp_path)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(answer["labels"]) == 3 and set(answer["labels"]) <= set(TOPICS)
    probabilities = np.array(answer["probabilities"])
    assert probabilities.shape == (3, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def _tensor_tags(path):
    accumulator = EventAccumulator(str(path), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator, set(accumulator.Tags()["tensors"])


def test_tensorboard_logs_hold_losses_metrics_learning_rate_histograms_and_text(smoke):
    output, _ = smoke
    (run,) = (output / TASK / "runs").iterdir()
    _, train_tags = _tensor_tags(run / "logs" / "train")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= train_tags
    assert any(tag.endswith("histogram") for tag in train_tags)
    _, validation_tags = _tensor_tags(run / "logs" / "validation")
    assert {"epoch_loss", "epoch_accuracy"} <= validation_tags
    text, text_tags = _tensor_tags(run / "logs" / "text")
    assert {"config", "samples"} <= text_tags
    samples = text.Tensors("samples")
    assert len(samples) == 2  # one table per epoch
    table = samples[-1].tensor_proto.string_val[0].decode()
    assert table.startswith("| text | truth | predicted | p |")
    config = text.Tensors("config")[0].tensor_proto.string_val[0].decode()
    assert "| data | bbc_news |" in config


def test_predict_evaluate_and_export_commands_use_the_latest_export_and_run(
    smoke, tmp_path
):
    output, _ = smoke
    inputs = tmp_path / "inputs.txt"
    inputs.write_text(TEXTS[1] + "\n\n")
    predicted = run_pipeline(
        TASK, "predict", TEXTS[0], "--input", str(inputs), output=output
    )
    lines = [line for line in predicted.stdout.splitlines() if "p=" in line]
    assert len(lines) == 2 and all(line.split()[0] in TOPICS for line in lines)

    evaluated = run_pipeline(TASK, "evaluate", output=output)
    assert f"evaluating {output / TASK / '1'}" in evaluated.stdout
    assert "tfidf_logreg" in evaluated.stdout

    run_pipeline(TASK, "export", output=output)
    assert (
        json.loads((output / TASK / "2" / "metadata.json").read_text())["version"] == 2
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["train", "--set", "colour=red"],
            "unknown setting 'colour' in --set; valid keys:",
        ),
        (["--data", "missing.csv"], "data file 'missing.csv' not found"),
        (["predict"], "nothing to predict: pass texts to classify"),
        (["evaluate"], "no export of text_classification"),
        (["evaluate", "--smoke"], "evaluate takes no --smoke"),
        (["export", "--set", "units=4"], "export takes no --set"),
        (["export"], "no checkpoint of text_classification run (latest)"),
        (["train", "--set", "dropout=1.5"], "dropout must be in [0, 1), got 1.5"),
        (["train", "--run", "../../x"], "--run takes a plain folder name"),
        (["train", "--set", "learning_rate=nan"], "learning_rate takes a finite"),
        (["--set", "units=4", "train", "--model", "m"], "train takes no --model"),
        (["predict", "--set", "units=4", "Hello"], "predict takes no --set"),
        (["predict", "--model", "nowhere", "Hello"], "no export at 'nowhere'"),
    ],
)
def test_user_errors_end_in_one_message_and_a_nonzero_exit(args, message, tmp_path):
    result = run_pipeline(TASK, *args, output=tmp_path, check=False)
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / TASK / "runs").exists() or not any(
        (tmp_path / TASK / "runs").iterdir()
    )


def test_an_output_that_is_a_file_gets_one_message(tmp_path):
    (tmp_path / "file").write_text("")
    result = run_pipeline(
        TASK, "train", "--smoke", output=tmp_path / "file", check=False
    )
    assert result.returncode == 2
    assert (
        "is a file; pass a folder" in result.stderr and "Traceback" not in result.stderr
    )


def test_a_non_utf8_input_file_gets_one_message(smoke, tmp_path):
    output, _ = smoke
    inputs = tmp_path / "latin1.txt"
    inputs.write_bytes("Café prices rose\n".encode("latin-1"))
    result = run_pipeline(
        TASK, "predict", "--input", str(inputs), output=output, check=False
    )
    assert result.returncode == 2
    assert "is not UTF-8 text (byte 0xe9 at offset 3)" in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluating_on_data_with_other_labels_names_the_labels(smoke, tmp_path):
    output, _ = smoke
    rows = [{"text": f"words number {i}", "label": f"topic{i % 3}"} for i in range(60)]
    data = tmp_path / "other.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    result = run_pipeline(
        TASK, "evaluate", "--data", str(data), output=output, check=False
    )
    assert result.returncode == 2
    assert "was trained with labels=" in result.stderr
    assert "evaluate it on data with the same labels" in result.stderr
    assert "--set" not in result.stderr


def test_killed_and_interrupted_exports_leave_nothing_behind(smoke, tmp_path):
    output, _ = smoke
    task_dir = output / TASK
    versions = sorted(path.name for path in task_dir.iterdir())

    def export_until_staging(signal_number, log):
        left = set(task_dir.glob(".incomplete-*"))
        process = start_pipeline(TASK, "export", output=output, log=log)
        deadline = time.monotonic() + 300
        while not set(task_dir.glob(".incomplete-*")) - left:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal_number)
        return process.wait()

    export_until_staging(signal.SIGKILL, tmp_path / "killed.log")
    assert list(task_dir.glob(".incomplete-*"))  # what a kill leaves
    interrupted = tmp_path / "interrupted.log"
    assert export_until_staging(signal.SIGINT, interrupted) == 130
    log = interrupted.read_text()
    assert "removed 1 unfinished export(s) of killed processes" in log
    assert "interrupted: the export was stopped before it was complete" in log
    assert "resume training" not in log
    assert sorted(path.name for path in task_dir.iterdir()) == versions


def test_a_user_csv_trains_through_data(tmp_path):
    words = {
        "cooking": "recipe oven flour butter bake simmer",
        "football": "goal striker match referee league penalty",
        "markets": "shares profit investors bank stocks bonds",
    }
    rows = [
        {
            "body": f"{' '.join(np.roll(words[topic].split(), i))} story {i}",
            "topic": topic,
        }
        for i in range(40)
        for topic in words
    ]
    data = tmp_path / "my news.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    result = run_pipeline(
        TASK,
        "--smoke",
        "--data",
        str(data),
        "--set",
        "text_column=body",
        "label_column=topic",
        "pretrain_epochs=1",
        output=tmp_path / "out",
    )
    metadata = json.loads((tmp_path / "out" / TASK / "1" / "metadata.json").read_text())
    assert metadata["data"] == str(data)
    # Eight words a text: the length follows the data, not the cap of 48.
    assert metadata["assets"]["tokens_kept"] == 8
    assert "keeping the first 8 tokens of each text" in result.stdout
    assert "pretraining the encoder as a language model for 1 epoch\n" in result.stdout
    assert metadata["assets"]["labels"] == sorted(words)
    assert metadata["baselines"]["tfidf_logreg"]["accuracy"] == 1.0


def test_listing_the_tasks_and_an_unknown_task():
    listing = subprocess.run(
        [sys.executable, "-m", "pipelines"], cwd=PROJECT, capture_output=True, text=True
    )
    assert (
        listing.returncode == 0
        and TASK in listing.stdout
        and "bbc" in listing.stdout.lower()
    )
    unknown = subprocess.run(
        [sys.executable, "-m", "pipelines", "poetry"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2
    registered = ", ".join(sorted(tasks.TASKS))
    assert (
        f"error: unknown task 'poetry'; choose one of: {registered}" in unknown.stderr
    )
    assert "text_classification" in registered and "translation" in registered
