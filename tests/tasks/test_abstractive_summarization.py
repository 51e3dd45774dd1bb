import dataclasses
import json

import numpy as np
import pytest

from pipelines.runner.train import figure_predictor
from recurrent.errors import UserInputError
from tasks.abstractive_summarization import TASK, Config, latest_export


def test_settings_name_their_fix():
    with pytest.raises(UserInputError, match="output"):
        Config(output="copy")
    with pytest.raises(UserInputError, match="units must be even"):
        Config(units=7)
    with pytest.raises(UserInputError, match="latent"):
        Config(latent="beta")
    with pytest.raises(UserInputError, match="max_source must be at least 1"):
        Config(max_source=0)


def test_a_file_with_blank_rows_prepares_copy_batches(tmp_path):
    rows = [
        {
            "document": f"the zorp{i} met the blix{i} .",
            "summary": f"zorp{i} met blix{i}",
        }
        for i in range(30)
    ]
    rows += [
        {"document": " ", "summary": "nothing"},
        {"document": "a b", "summary": ""},
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(row) for row in rows))
    config = Config(vocabulary=8, max_source=4, max_target=2, batch_size=4)
    prepared = TASK.prepare(config, str(data))
    sizes = {name: len(frame) for name, frame in prepared.splits.items()}
    assert sum(sizes.values()) == 30  # the two blank rows are left out
    inputs, target_out, _ = next(iter(prepared.train))
    assert inputs["source"].shape[1] <= 4 and target_out.shape[1] <= 3
    vocabulary = prepared.assets["vocabulary"]
    # Names are out of the vocabulary: the targets copy them by extended ids.
    assert int(target_out.numpy().max()) >= vocabulary.size
    assert prepared.assets["decoding"]["block_ngram"] == 3
    # Without copying, unknown words stay unknown and the model trains on them.
    plain = dataclasses.replace(config, output="vocabulary", max_batches=1)
    prepared = TASK.prepare(plain, str(data))
    inputs, target_out, weights = next(iter(prepared.train))
    assert "source_extended" not in inputs
    assert int(target_out.numpy().max()) < vocabulary.size
    model = TASK.build_model(plain, prepared)
    assert np.isfinite(model.train_on_batch(inputs, target_out, weights)).all()
    # Its figures are attention maps alone: it has no p_gen and copies nothing.
    figures = TASK.figures(figure_predictor(TASK, model, prepared), prepared, 1)
    assert list(figures) == ["attention_0"]


def test_the_headline_can_be_the_target():
    ledes_prepared = TASK.prepare(Config(max_batches=1), "bbc_summaries")
    titles_prepared = TASK.prepare(
        Config(target="headline", max_batches=1), "bbc_summaries"
    )
    ledes = ledes_prepared.splits["train"]
    titles = titles_prepared.splits["train"]
    assert (ledes["document"] == titles["document"]).all()
    assert (ledes["summary"] != titles["summary"]).mean() > 0.99
    words = titles["summary"].str.split().map(len).mean()
    assert words < 0.5 * ledes["summary"].str.split().map(len).mean()
    # Beam search may end a headline before the minimum meant for ledes.
    assert ledes_prepared.assets["decoding"]["min_length"] == 8
    assert 2 <= titles_prepared.assets["decoding"]["min_length"] < 8


def test_the_latest_export_is_found_by_version(tmp_path):
    assert latest_export(str(tmp_path / "missing")) is None
    assert latest_export(str(tmp_path)) is None
    for version in (1, 2, 10):
        folder = tmp_path / str(version)
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"")
    (tmp_path / "11").mkdir()  # an unfinished folder without a model
    assert latest_export(str(tmp_path)) == tmp_path / "10"
    assert latest_export(str(tmp_path / "2")) == tmp_path / "2"


def test_aclsum_papers_go_through_the_same_preparation():
    prepared = TASK.prepare(Config(max_batches=1), "aclsum")
    sizes = {name: len(frame) for name, frame in prepared.splits.items()}
    assert sizes == {"train": 100, "validation": 50, "test": 100}
    test = prepared.splits["test"]
    # A paper's sentences, one per line, to the three aspect summaries.
    assert test["document"].str.count("\n").median() > 20
    assert test["summary"].str.split().map(len).median() > 40
    inputs, target_out, _ = next(iter(prepared.train))
    assert inputs["source"].shape[1] == 400 and target_out.shape[1] <= 51
