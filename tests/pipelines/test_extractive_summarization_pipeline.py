"""End to end: the extractive summarization pipeline in a subprocess, its export
summarizing raw strings in a process that cannot import the project, and its
samples in TensorBoard's text tab through TensorBoard's own reader."""

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "extractive_summarization"
DOCUMENTS = [
    "The council approved the new budget on Monday. Spending on schools will "
    "rise by 5%. Mr. Smith said the plan was fair.\nCritics disagreed.",
    "",
    "One sentence only",
]
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
outputs = model.summarize(tf.constant(sys.argv[2:]))
empty = model.summarize(tf.constant([], tf.string))
print(json.dumps({
    "summary": [s.decode() for s in outputs["summary"].numpy()],
    "sentences": [[s.decode() for s in row] for row in outputs["sentences"].numpy()],
    "scores": outputs["scores"].numpy().tolist(),
    "selected": outputs["selected"].numpy().tolist(),
    "count": outputs["sentence_count"].numpy().tolist(),
    "empty": list(empty["summary"].shape),
}))
"""


@pytest.fixture(scope="module")
def smoke(extractive_smoke):
    return extractive_smoke


def test_smoke_run_trains_evaluates_and_exports_with_its_baselines(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["data"] == "bbc_summaries"
    assert metadata["endpoints"] == ["summarize"]
    assert set(metadata["baselines"]) == {
        "lead1",
        "lead3",
        "textrank",
        "random",
        "oracle",
    }
    for scores in [metadata["metrics"], *metadata["baselines"].values()]:
        for measure in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            assert (
                scores[f"{measure}_low"] <= scores[measure] <= scores[f"{measure}_high"]
            )
    oracle = metadata["baselines"]["oracle"]["rouge2"]
    assert oracle > max(
        s["rouge2"] for n, s in metadata["baselines"].items() if n != "oracle"
    )
    assert metadata["metrics"]["share_of_oracle_rouge2"] == pytest.approx(
        metadata["metrics"]["rouge2"] / oracle
    )
    textrank = metadata["baselines"]["textrank"]
    assert textrank["model_rouge2_gain"] == pytest.approx(
        metadata["metrics"]["rouge2"] - textrank["rouge2"]
    )
    assert (
        textrank["documents_model_higher"] + textrank["documents_baseline_higher"]
        <= 207
    )
    assert metadata["assets"]["summary_sentences"] >= 1
    assert "95% bootstrap intervals" in result.stdout and "lead3" in result.stdout
    # The samples of TensorBoard's text tab, as Markdown in the export.
    samples = (export / "samples.md").read_text()
    assert metadata["samples"] == "samples.md"
    assert samples.count("**Document") == 3 and "✔" in samples


def test_the_export_summarizes_raw_strings_where_the_project_cannot_be_imported(
    smoke, tmp_path
):
    output, _ = smoke
    result = run_without_project(
        CLIENT, str(output / TASK / "1"), *DOCUMENTS, cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["count"] == [4, 0, 1] and answer["empty"] == [0]
    first = answer["sentences"][0][:4]
    assert first[0] == "The council approved the new budget on Monday."
    assert (
        first[2] == "Mr. Smith said the plan was fair."
        and first[3] == "Critics disagreed."
    )
    chosen = [
        s for s, picked in zip(first, answer["selected"][0], strict=True) if picked
    ]
    assert answer["summary"][0] == " ".join(chosen) and chosen
    assert answer["summary"][1] == "" and not any(answer["selected"][1])
    assert answer["summary"][2] == "One sentence only"
    assert all(0 <= score <= 1 for score in answer["scores"][0])


def test_samples_are_logged_as_text_each_epoch(smoke):
    output, _ = smoke
    (run,) = (output / TASK / "runs").iterdir()
    events = EventAccumulator(str(run / "logs" / "text"), size_guidance={"tensors": 0})
    events.Reload()
    logged = events.Tensors("samples")
    assert [event.step for event in logged] == [0, 1]
    text = logged[-1].tensor_proto.string_val[0].decode()
    assert "| score | sentence |" in text and "Reference:" in text


def test_predict_summarizes_a_file(smoke, tmp_path):
    output, _ = smoke
    article = tmp_path / "article.txt"
    article.write_text(DOCUMENTS[0])
    result = run_pipeline(TASK, "predict", "--input", str(article), output=output)
    assert "document 1: 4 sentences" in result.stdout
    assert "  => " in result.stdout.splitlines()[-1]
