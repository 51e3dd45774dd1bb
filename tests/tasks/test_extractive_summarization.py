import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from pipelines.runner.train import in_memory_predictor
from recurrent.baselines.summarization import select
from recurrent.errors import UserInputError
from tasks.extractive_summarization import TASK, Config, _chosen

TINY = Config().tiny()
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "was",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
]
TOPICS = ["river", "market", "school", "garden", "train", "winter", "music", "doctor"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RECURRENT_CACHE_DIR", str(tmp_path / "cache"))


def _keyword_documents(count: int, seed: int = 0) -> list[dict]:
    """Documents of six sentences; the one that says "breaking news" (at a
    random place) is the summary. Lead-1 finds it one time in six."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        sentences = []
        for _ in range(6):
            words = [*rng.choice(TOPICS, 2), *rng.choice(FILLER, 5)]
            rng.shuffle(words)
            sentences.append(" ".join(words).capitalize() + ".")
        key = int(rng.integers(6))
        topic = " ".join(rng.choice(TOPICS, 3))
        sentences[key] = f"Breaking news about the {topic} today."
        rows.append(
            {
                "document": " ".join(sentences),
                "summary": f"Breaking news: the {topic}.",
                "split": "train"
                if index < count - 80
                else ("validation" if index < count - 40 else "test"),
            }
        )
    return rows


def _write_jsonl(path, rows) -> str:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return str(path)


def test_a_tiny_model_learns_the_cue_that_lead_and_textrank_miss(tmp_path):
    data = _write_jsonl(tmp_path / "news.jsonl", _keyword_documents(400))
    config = dataclasses.replace(
        TINY, max_batches=0, epochs=8, summary_sentences=1, learning_rate=5e-3
    )
    prepared = TASK.prepare(config, data)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=8, verbose=0, shuffle=False)
    predict = in_memory_predictor(TASK, model, prepared)
    evaluation = TASK.evaluate(predict, prepared, config)
    metrics, baselines = evaluation.metrics, evaluation.baselines
    # The oracle picks the "breaking news" sentence; so should the model.
    assert baselines["oracle"]["mean_sentences"] == pytest.approx(1.0)
    assert metrics["rouge2"] > baselines["lead1"]["rouge2"] + 20
    assert metrics["rouge2"] > baselines["textrank"]["rouge2"] + 20
    assert metrics["share_of_oracle_rouge2"] > 0.8
    assert "oracle" in evaluation.report and "[" in evaluation.report


def test_prepare_splits_sentences_labels_them_and_caches_the_oracle(tmp_path):
    data = _write_jsonl(tmp_path / "news.jsonl", _keyword_documents(120))
    config = dataclasses.replace(TINY, labels="oracle")
    prepared = TASK.prepare(config, data)
    test = prepared.splits["test"]
    assert all(len(sentences) == 6 for sentences in test["sentences"])
    assert all(
        sentences[i].startswith("Breaking news")
        for sentences, (i,) in zip(test["sentences"], test["oracle"], strict=True)
    )
    tokens, targets = next(iter(prepared.train))
    assert tokens.shape[:2] == targets.shape and tokens.shape[1] == 6
    assert set(np.unique(targets)) == {0.0, 1.0}
    assert (targets.numpy().sum(axis=1) == 1).all()
    (cached,) = (tmp_path / "cache" / "oracle").glob("*.json")
    stamp = cached.stat().st_mtime_ns
    again = TASK.prepare(config, data)
    assert cached.stat().st_mtime_ns == stamp  # read back, not recomputed
    assert again.splits["test"]["oracle"].tolist() == test["oracle"].tolist()


def test_renamed_csv_columns_and_a_word_budget(tmp_path):
    frame = pd.DataFrame(_keyword_documents(100)).rename(
        columns={"document": "body", "summary": "lede"}
    )
    frame.to_csv(tmp_path / "news.csv", index=False)
    with pytest.raises(UserInputError, match="document_column=NAME"):
        TASK.prepare(TINY, str(tmp_path / "news.csv"))
    config = dataclasses.replace(
        TINY, document_column="body", summary_column="lede", summary_words=12
    )
    prepared = TASK.prepare(config, str(tmp_path / "news.csv"))
    assert prepared.assets["summary_words"] == 12
    model = TASK.build_model(config, prepared)
    outputs = in_memory_predictor(TASK, model, prepared)(
        prepared.splits["test"]["document"].tolist()[:5]
    )
    for sentences, scores, chosen, count in zip(
        outputs["sentences"],
        outputs["scores"],
        outputs["selected"],
        outputs["sentence_count"],
        strict=True,
    ):
        texts = [s.decode() for s in sentences[:count]]
        expected = select(list(scores[:count]), texts, count=None, words=12)
        assert list(np.flatnonzero(chosen)) == expected


def test_human_highlights_are_read_per_line_and_checked(tmp_path):
    rows = [
        {
            "document": "Alpha one. Alpha two.\nBeta line.\nGamma line.",
            "summary": "Beta.",
            "highlights": [0, 1, 0],
            "split": split,
        }
        for split in ("train", "train", "validation", "test")
    ]
    data = _write_jsonl(tmp_path / "marked.jsonl", rows)
    config = dataclasses.replace(TINY, labels="highlights")
    prepared = TASK.prepare(config, data)
    # The first line holds two sentences; both take its label.
    assert prepared.splits["train"]["highlight_labels"][0] == [0, 0, 1, 0]
    rows[0]["highlights"] = [1, 0]
    with pytest.raises(UserInputError, match="3 non-blank lines but 2 highlight"):
        TASK.prepare(config, _write_jsonl(tmp_path / "bad.jsonl", rows))


@pytest.mark.parametrize("budget", [0, 9])
def test_in_graph_selection_is_the_baselines_selection(budget):
    rng = np.random.default_rng(budget)
    texts = [
        [" ".join(["w"] * int(n)) for n in rng.integers(1, 8, 6)] for _ in range(20)
    ]
    counts = rng.integers(1, 7, 20)
    scores = rng.random((20, 6)).astype("float32")
    scores[:, 2] = scores[:, 3]  # ties go to the earlier sentence
    real = np.arange(6)[None, :] < counts[:, None]
    padded = [
        [t if r else "" for t, r in zip(row, mask, strict=True)]
        for row, mask in zip(texts, real, strict=True)
    ]
    chosen = _chosen(
        tf.constant(np.where(real, scores, 0.0)),
        tf.constant(padded),
        tf.constant(real),
        2,
        budget,
    ).numpy()
    for row in range(20):
        n = counts[row]
        expected = select(
            list(scores[row, :n]),
            texts[row][:n],
            count=None if budget else 2,
            words=budget or None,
        )
        assert list(np.flatnonzero(chosen[row])) == expected


class CnnDailymailSample(tfds.builder_cls("cnn_dailymail"), skip_registration=True):
    """TFDS's own cnn_dailymail builder, fed a few local stories instead of the download."""

    name = "cnn_dailymail"

    def _split_generators(self, dl_manager):
        rows = _keyword_documents(60)
        return {
            "train": self._stories(rows[:40]),
            "validation": self._stories(rows[40:50]),
            "test": self._stories(rows[50:]),
        }

    def _stories(self, rows):
        for i, row in enumerate(rows):
            yield (
                i,
                {
                    "article": row["document"],
                    "highlights": row["summary"],
                    "id": str(i),
                    "publisher": "cnn",
                },
            )


def test_tfds_cnn_dailymail_reads_from_the_tfds_data_dir(tmp_path, monkeypatch):
    CnnDailymailSample(data_dir=str(tmp_path)).download_and_prepare()
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    config = dataclasses.replace(
        TINY, document_column="article", summary_column="highlights"
    )
    prepared = TASK.prepare(config, "tfds:cnn_dailymail")
    assert len(prepared.splits["train"]) == 40 and len(prepared.splits["test"]) == 10
    assert prepared.splits["test"]["summary"][0].startswith("Breaking news")
    with pytest.raises(UserInputError, match="document_column=article"):
        TASK.prepare(TINY, "tfds:cnn_dailymail")


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"summary_sentences": 2, "summary_words": 50}, "not both"),
        (
            {
                "content": False,
                "salience": False,
                "novelty": False,
                "position": False,
                "relative_position": False,
            },
            "every score term is off",
        ),
        ({"labels": "human"}, "labels"),
        ({"pooling": "median"}, "pooling"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(setting, message):
    with pytest.raises(UserInputError, match=message):
        dataclasses.replace(TINY, **setting)


def test_predict_input_must_not_be_empty(tmp_path):
    with pytest.raises(UserInputError, match="nothing to summarize"):
        TASK.read_inputs(["  "], None)
    article = tmp_path / "article.txt"
    article.write_text("First line.\nSecond line.\n")
    assert TASK.read_inputs([], str(article)) == ["First line.\nSecond line."]


def test_soft_labels_grade_each_sentence_by_its_own_rouge(tmp_path):
    data = _write_jsonl(tmp_path / "news.jsonl", _keyword_documents(120))
    config = dataclasses.replace(TINY, labels="soft")
    prepared = TASK.prepare(config, data)
    _, targets = next(iter(prepared.train))
    targets = targets.numpy()
    assert np.allclose(targets.max(axis=1), 1.0)  # the document's best is 1
    graded = targets[(targets > 0) & (targets < 1)]
    assert graded.size > 0  # sentences sharing some words get partial credit
    # The oracle still sets the summary length.
    assert prepared.assets["summary_sentences"] == 1


def test_embeddings_start_from_a_word_vector_file_and_can_stay_fixed(tmp_path):
    data = _write_jsonl(tmp_path / "news.jsonl", _keyword_documents(120))
    vectors = tmp_path / "vectors.txt"
    vectors.write_text(
        "2 16\nbreaking " + " ".join(["0.5"] * 16) + "\n"
        "river " + " ".join(["-0.25"] * 16) + "\n"
    )
    config = dataclasses.replace(TINY, embeddings=str(vectors), freeze_embeddings=True)
    prepared = TASK.prepare(config, data)
    model = TASK.build_model(config, prepared)
    embedding = model.get_layer("embedding")
    vocabulary = prepared.assets["vectorizer"].get_vocabulary()
    weights = embedding.get_weights()[0]
    np.testing.assert_allclose(weights[vocabulary.index("breaking")], 0.5)
    np.testing.assert_allclose(weights[vocabulary.index("river")], -0.25)
    assert not embedding.trainable
    model.fit(prepared.train.take(1), verbose=0, shuffle=False)
    np.testing.assert_allclose(embedding.get_weights()[0], weights)
