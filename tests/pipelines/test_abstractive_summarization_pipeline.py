"""End to end: the abstractive summarization pipeline in a subprocess; its
export summarizing raw strings, and copying words it never saw, in a process
that cannot import the project."""

import json

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.pipelines.pipeline_process import run_pipeline, run_without_project

TASK = "abstractive_summarization"
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
texts = tf.constant(sys.argv[2:])
outputs = model.summarize(texts)
details = model.attention(texts)
empty = model.summarize(tf.constant([], tf.string))
print(json.dumps({
    "summary": [s.decode() for s in outputs["summary"].numpy()],
    "p_gen": details["p_gen"].numpy().tolist(),
    "weights": list(details["weights"].shape),
    "output_tokens": [[t.decode() for t in row] for row in details["output_tokens"].numpy()],
    "empty": list(empty["summary"].shape),
}))
"""
COMMON = ["the", "of", "and", "a", "in"]


def _names(rng, count, prefix):
    letters = list("bcdfghjklmnprstvz")
    return [prefix + "".join(rng.choice(letters, 5)) for _ in range(count)]


def _pairs(rng, names, count):
    """Documents naming two people among common words; the summary: the two names."""
    rows = []
    for _ in range(count):
        first, second = rng.choice(names, 2, replace=False)
        filler = rng.choice(COMMON, 4)
        document = f"{filler[0]} {first} {filler[1]} {filler[2]} {second} {filler[3]} ."
        rows.append({"document": document, "summary": f"{first} {second}"})
    return rows


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, extractive_smoke):
    output = tmp_path_factory.mktemp("smoke")
    extractive = extractive_smoke[0] / "extractive_summarization"
    settings = ["--set", f"extractive_model={extractive}"]
    return output, run_pipeline(TASK, "--smoke", *settings, output=output)


def test_smoke_run_trains_evaluates_and_exports_with_its_baselines(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["data"] == "bbc_summaries"
    assert sorted(metadata["endpoints"]) == ["attention", "summarize"]
    assert set(metadata["baselines"]) == {"lead1", "textrank", "extractive"}
    # The extractive export (found by its version folder) selects sentences:
    # every word is the document's, and only bigrams across a join are new.
    extractive = metadata["baselines"]["extractive"]
    assert extractive["export"].endswith("extractive_summarization/1")
    assert extractive["novel_1grams"] == 0 and extractive["mean_words"] > 0
    assert extractive["novel_2grams"] < 5
    for scores in [metadata["metrics"], *metadata["baselines"].values()]:
        for measure in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            assert (
                scores[f"{measure}_low"] <= scores[measure] <= scores[f"{measure}_high"]
            )
        assert 0 <= scores["repeated_trigrams"] <= 100 and scores["mean_words"] > 0
    # Lead-1 copies a sentence of the document: nothing in it is novel.
    assert metadata["baselines"]["lead1"]["novel_2grams"] == 0
    assert metadata["metrics"]["test_documents"] == 207
    assert (
        "repeated_trigrams" in result.stdout and "model ROUGE-2 minus" in result.stdout
    )
    figures = metadata["figures"]
    assert any(name.startswith("attention_") for name in figures)
    assert any(name.startswith("copied_") for name in figures)
    (run,) = (output / TASK / "runs").iterdir()
    history = (run / "history.csv").read_text().splitlines()
    assert "coverage_active" in history[0] and "val_coverage" in history[0]
    events = EventAccumulator(str(run / "logs" / "text"), size_guidance={"tensors": 0})
    events.Reload()
    assert [event.step for event in events.Tensors("samples")] == [0, 1]


def test_the_export_copies_words_it_never_saw_where_the_project_cannot_be_imported(
    tmp_path,
):
    rng = np.random.default_rng(0)
    data = tmp_path / "names.jsonl"
    rows = _pairs(rng, _names(rng, 40, "q"), 600)
    data.write_text("\n".join(json.dumps(row) for row in rows))
    settings = [
        "vocabulary=12",
        "embedding_dim=16",
        "units=32",
        "epochs=6",
        "learning_rate=1e-2",
        "batch_size=32",
        "min_length=0",
        "beam_size=2",
        "extractive_model=",
    ]
    output = tmp_path / "out"
    run_pipeline(TASK, "--data", str(data), "--set", *settings, output=output)
    unseen = _pairs(rng, _names(rng, 10, "w"), 10)
    documents = [row["document"] for row in unseen] + [""]
    result = run_without_project(
        CLIENT, str(output / TASK / "1"), *documents, cwd=tmp_path
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    exact = sum(
        summary == row["summary"]
        for summary, row in zip(answer["summary"], unseen, strict=False)
    )
    # Every name is out of the 12-word vocabulary and new: only copying writes it.
    assert exact >= 8, list(zip(answer["summary"], unseen, strict=False))
    assert answer["summary"][-1] == "" and answer["empty"] == [0]
    assert answer["weights"][0] == len(documents)
    # A copied name is written with a low probability of generating.
    first = answer["output_tokens"][0]
    if first[0] == unseen[0]["summary"].split()[0]:
        assert answer["p_gen"][0][0] < 0.5
