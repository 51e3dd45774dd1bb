import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from pipelines.runner.export import write_saved_model
from pipelines.runner.train import in_memory_predictor
from recurrent.errors import UserInputError
from tasks.text_classification import TASK, Config

TINY = Config().tiny()


@pytest.fixture(scope="module")
def prepared():
    return TASK.prepare(TINY, "bbc_news")


def test_prepare_fits_the_vocabulary_on_train_and_batches_token_ids(prepared):
    assert prepared.assets["labels"] == [
        "business",
        "entertainment",
        "politics",
        "sports",
        "tech",
    ]
    tokens, labels = next(iter(prepared.train))
    assert tokens.shape == (TINY.batch_size, TINY.sequence_length)
    assert tokens.dtype == tf.int64 and labels.dtype == tf.int32
    assert len(list(prepared.train)) == TINY.max_batches
    assert prepared.assets["vectorizer"].vocabulary_size() == TINY.max_tokens
    assert len(prepared.fingerprint) == 64


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"cell": "lstm", "bidirectional": False, "pooling": "last"},
        {"front_end": "conv", "pooling": "attention"},
        {"encoder": "disconnected", "window": 3, "pooling": "last"},
        {"cell": "simple", "layers": 2, "merge_mode": "sum", "pooling": "mean"},
    ],
)
def test_every_variant_builds_and_one_fit_step_changes_its_weights(prepared, variant):
    config = dataclasses.replace(TINY, **variant)
    model = TASK.build_model(config, prepared)
    before = [weight.numpy() for weight in model.trainable_weights]
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    changed = [
        not np.allclose(weight.numpy(), old)
        for weight, old in zip(model.trainable_weights, before, strict=True)
    ]
    assert all(changed)


def test_bad_choices_are_refused_when_the_config_is_made():
    with pytest.raises(UserInputError, match="unknown pooling 'median'"):
        Config(pooling="median")
    with pytest.raises(UserInputError, match="layers=1"):
        Config(encoder="disconnected", layers=2)


def test_evaluate_scores_the_model_beside_the_baseline(prepared):
    model = TASK.build_model(TINY, prepared)
    evaluation = TASK.evaluate(
        in_memory_predictor(TASK, model, prepared), prepared, TINY
    )
    assert set(evaluation.metrics) == {"accuracy", "macro_f1", "confusion_matrix"}
    test_size = len(prepared.splits["test"])
    assert np.sum(evaluation.metrics["confusion_matrix"]) == test_size
    baseline = evaluation.baselines["tfidf_logreg"]
    assert (
        baseline["accuracy"] > 0.95
    )  # TF-IDF + logistic regression is strong on BBC News
    assert (
        "tfidf_logreg" in evaluation.report and "confusion matrix" in evaluation.report
    )


def test_export_reloads_and_matches_the_in_memory_model(prepared, tmp_path):
    model = TASK.build_model(TINY, prepared)
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    write_saved_model(TASK, model, prepared, tmp_path)
    loaded = tf.saved_model.load(str(tmp_path))
    texts = prepared.splits["test"]["text"].head(4).tolist()
    exported = loaded.serve(tf.constant(texts))
    expected = in_memory_predictor(TASK, model, prepared)(texts)
    np.testing.assert_allclose(
        exported["probabilities"], expected["probabilities"], atol=1e-5
    )
    assert exported["label"].numpy().tolist() == expected["label"].tolist()
    classes = [name.decode() for name in loaded.classes()["classes"].numpy()]
    assert classes == prepared.assets["labels"]


def test_predict_input_must_not_be_empty():
    with pytest.raises(UserInputError, match="nothing to classify"):
        TASK.read_inputs(["", "  "])


def test_known_tokens_tells_a_prediction_made_from_no_known_word(prepared, tmp_path):
    model = TASK.build_model(TINY, prepared)
    write_saved_model(TASK, model, prepared, tmp_path)
    loaded = tf.saved_model.load(str(tmp_path))
    texts = ["", "   ", "zzqx qqwv", "the government said"]
    outputs = {key: value.numpy() for key, value in loaded.serve(texts).items()}
    assert outputs["known_tokens"].dtype == np.int32
    assert outputs["known_tokens"].tolist() == [0, 0, 0, 3]
    shown = TASK.format_predictions(texts, outputs).splitlines()
    assert [line.endswith("(no known words)") for line in shown] == [1, 1, 1, 0]

    classes = len(prepared.assets["labels"])
    for serve in (loaded.serve, loaded.signatures["serving_default"]):
        empty = serve(texts=tf.constant([], tf.string))
        assert {key: tuple(value.shape) for key, value in empty.items()} == {
            "label": (0,),
            "probabilities": (0, classes),
            "known_tokens": (0,),
        }
