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

from tests.pipelines.pipeline_process import (
    PROJECT,
    command,
    environment,
    run_pipeline,
    run_without_project,
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
    ],
)
def test_user_errors_end_in_one_message_and_a_nonzero_exit(args, message, tmp_path):
    result = run_pipeline(TASK, *args, output=tmp_path, check=False)
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_run_killed_after_its_first_epoch_resumes_from_the_second(tmp_path):
    args = ["train", "--smoke", "--set", "epochs=6", "patience=10", "max_batches=20"]
    log = tmp_path / "killed.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            command(TASK, *args, output=tmp_path),
            cwd=PROJECT,
            env=environment(),
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while not list(tmp_path.glob(f"{TASK}/runs/*/backup/training_metadata.json")):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no backup after five minutes"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert "Epoch 1/6" in log.read_text()

    resumed = run_pipeline(TASK, *args, output=tmp_path)
    assert "resuming the interrupted run" in resumed.stdout
    epochs = [int(epoch) for epoch in re.findall(r"Epoch (\d+)/6", resumed.stdout)]
    assert epochs[0] >= 2, resumed.stdout
    assert epochs[-1] == 6

    (run_dir,) = (tmp_path / TASK / "runs").iterdir()
    again = run_pipeline(TASK, *args, output=tmp_path)
    assert "has finished; using its best checkpoint" in again.stdout
    assert "Epoch" not in again.stdout

    other = run_pipeline(
        TASK, *args, "units=4", "--run", run_dir.name, output=tmp_path, check=False
    )
    assert other.returncode == 2
    assert (
        "holds a run with other data or settings; pass a new --run NAME" in other.stderr
    )


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
    run_pipeline(
        TASK,
        "--smoke",
        "--data",
        str(data),
        "--set",
        "text_column=body",
        "label_column=topic",
        output=tmp_path / "out",
    )
    metadata = json.loads((tmp_path / "out" / TASK / "1" / "metadata.json").read_text())
    assert metadata["data"] == str(data)
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
    assert (
        "error: unknown task 'poetry'; choose one of: forecasting, text_classification"
        in unknown.stderr
    )
