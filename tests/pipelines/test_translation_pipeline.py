"""End to end: the translation pipeline in a subprocess, its export translating
raw strings in a process that cannot import the project, and its attention maps
in TensorBoard through TensorBoard's own reader."""

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "translation"
SENTENCES = ["In the beginning God created the heavens and the earth.", "Jesus wept."]
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
texts = tf.constant(sys.argv[2:])
translated = model.translate(texts)
attention = model.attention(texts)
print(json.dumps({
    "translations": [t.decode() for t in translated["translation"].numpy()],
    "scores": translated["score"].numpy().tolist(),
    "same": attention["translation"].numpy().tolist() == translated["translation"].numpy().tolist(),
    "weights": list(attention["weights"].shape),
    "source_tokens": [[t.decode() for t in row] for row in attention["source_tokens"].numpy()],
    "row_sums": attention["weights"].numpy().sum(-1).tolist(),
}))
"""


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    output = tmp_path_factory.mktemp("smoke")
    return output, run_pipeline(TASK, "--smoke", output=output)


def test_smoke_run_trains_evaluates_and_exports(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["data"] == "bible_parallel"
    assert {"bleu", "chrf", "test_pairs"} <= set(metadata["metrics"])
    assert 0 < metadata["baselines"]["copy_source"]["chrf"] < 40
    assert metadata["endpoints"] == ["attention", "translate"]
    assert metadata["assets"]["decoding"]["beam_size"] == 2
    assert sorted(metadata["figures"]) == [f"attention_{i}.png" for i in range(3)]
    assert "copy_source" in result.stdout and "bleu" in result.stdout


def test_the_export_translates_raw_strings_where_the_project_cannot_be_imported(
    smoke, tmp_path
):
    output, _ = smoke
    result = run_without_project(
        CLIENT, str(output / TASK / "1"), *SENTENCES, cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(answer["translations"]) == 2 and answer["same"]
    assert all(isinstance(text, str) for text in answer["translations"])
    batch, steps, source = answer["weights"]
    # 26 decoding steps (max_length 16 + 10); the longer source has 11 tokens.
    assert (batch, steps, source) == (2, 26, 11)
    assert answer["source_tokens"][1][:3] == ["Jesus", "wept", "."]
    for sums in answer["row_sums"]:
        assert sums[0] == pytest.approx(1.0, abs=1e-5)


def test_attention_heat_maps_are_logged_as_images_each_epoch(smoke):
    output, _ = smoke
    (run,) = (output / TASK / "runs").iterdir()
    # TensorFlow 2 writes images as tensor summaries of the images plugin.
    events = EventAccumulator(
        str(run / "logs" / "images"), size_guidance={"tensors": 0}
    )
    events.Reload()
    assert {"attention_0", "attention_1", "attention_2"} <= set(
        events.Tags()["tensors"]
    )
    logged = events.Tensors("attention_0")
    assert [event.step for event in logged] == [0, 1]  # one map per epoch
    width, height, png = logged[-1].tensor_proto.string_val
    assert png.startswith(b"\x89PNG") and int(width) > 100 and int(height) > 100


def test_predict_subcommand_translates_with_the_latest_export(smoke):
    output, _ = smoke
    result = run_pipeline(TASK, "predict", "Jesus wept.", output=output)
    assert result.stdout.splitlines()[-2:][0] == "Jesus wept."
    assert result.stdout.splitlines()[-1].startswith("  => ")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_an_export_of_another_task_is_refused_with_one_message(smoke, command):
    output, _ = smoke
    export = output / TASK / "1"
    inputs = ["Hello"] if command == "predict" else []
    result = run_pipeline(
        "text_classification",
        command,
        "--model",
        str(export),
        *inputs,
        output=output,
        check=False,
    )
    assert result.returncode == 2
    assert (
        f"error: {str(export)!r} is an export of 'translation', not "
        "'text_classification'" in result.stderr
    )
    assert "Traceback" not in result.stderr
