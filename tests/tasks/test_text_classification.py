import dataclasses
import time

import numpy as np
import pytest
import tensorflow as tf

from pipelines.runner.export import serving_functions, write_saved_model
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
    # BBC articles are longer than the tiny cap of 48 tokens: the cap is kept.
    assert prepared.assets["tokens_kept"] == TINY.sequence_length
    assert tokens.shape == (TINY.batch_size, TINY.sequence_length)
    assert tokens.dtype == tf.int32 and labels.dtype == tf.int32
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


def _median_seconds(function, texts, calls=7):
    function(tf.constant(texts))  # traced and warm
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function(tf.constant(texts))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def test_a_short_text_costs_the_export_far_less_than_a_long_one(prepared):
    config = dataclasses.replace(TINY, sequence_length=400, units=32)
    long_prepared = TASK.prepare(config, "bbc_news")
    assert long_prepared.assets["tokens_kept"] == 400  # BBC articles are long
    model = TASK.build_model(config, long_prepared)
    serve = serving_functions(TASK, model, long_prepared)["serve"]
    short = " ".join(["market"] * 10)
    long = " ".join(["market"] * 400)
    # Before, every text was padded to 400 tokens and both cost the same.
    assert _median_seconds(serve, [short]) < _median_seconds(serve, [long]) / 4
    outputs = serve(tf.constant([short, long, ""]))
    assert outputs["known_tokens"].numpy().tolist() == [10, 400, 0]


def test_word_vectors_from_a_file_start_the_embeddings(prepared, tmp_path):
    vocabulary = prepared.assets["vectorizer"].get_vocabulary()
    path = tmp_path / "vectors.txt"
    path.write_text(
        f"2 16\n{vocabulary[2]} {' '.join(['0.5'] * 16)}\n"
        f"{vocabulary[3]} {' '.join(['-1'] * 16)}\n"
    )
    config = dataclasses.replace(TINY, embeddings=str(path), freeze_embeddings=True)
    model = TASK.build_model(config, prepared)
    weights = model.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(weights[2], 0.5)
    np.testing.assert_array_equal(weights[3], -1.0)
    assert not model.get_layer("embedding").trainable
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    np.testing.assert_array_equal(
        model.get_layer("embedding").get_weights()[0], weights
    )


def test_pretraining_changes_the_encoder_and_is_refused_where_it_would_cheat(prepared):
    config = dataclasses.replace(TINY, pretrain_epochs=1)
    model = TASK.build_model(config, prepared)
    encoder = model.get_layer("encoder")
    before = [weight.numpy() for weight in encoder.weights]
    TASK.pretrain(model, config, prepared)
    after = [weight.numpy() for weight in encoder.weights]
    assert not any(np.allclose(a, b) for a, b in zip(after, before, strict=True))
    with pytest.raises(UserInputError, match="front_end=none"):
        Config(pretrain_epochs=2, front_end="conv")
    with pytest.raises(UserInputError, match="layers=1"):
        Config(pretrain_epochs=2, layers=2)


def test_a_cosine_schedule_warms_up_over_the_steps_of_training(prepared):
    config = dataclasses.replace(TINY, schedule="cosine", warmup=0.5)
    model = TASK.build_model(config, prepared)
    assert float(model.optimizer.learning_rate) == 0.0
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    # One step of the 3 warm-up steps (2 epochs of 3 batches, half warming up).
    np.testing.assert_allclose(
        float(model.optimizer.learning_rate), config.learning_rate / 3, rtol=1e-5
    )
