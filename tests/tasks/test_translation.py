import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from pipelines.runner.export import write_saved_model
from pipelines.runner.train import in_memory_predictor
from recurrent.data.tokenizers import token_counts
from recurrent.errors import UserInputError
from tasks.translation import TASK, Config

TINY = Config().tiny()
WORDS = {
    "one": "uno",
    "two": "dos",
    "three": "tres",
    "red": "rojo",
    "green": "verde",
    "house": "casa",
    "dog": "perro",
    "cat": "gato",
    "big": "grande",
    "small": "pequeño",
}


def sentence_pairs(count: int):
    """Made-up word-for-word pairs: 'the red dog .' -> '¡ el perro rojo !'."""
    rng = np.random.default_rng(0)
    english = list(WORDS)
    for _ in range(count):
        words = rng.choice(english, size=rng.integers(2, 7)).tolist()
        yield " ".join(words) + ".", "¡" + " ".join(WORDS[w] for w in words) + "!"


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "pairs.txt"
    lines = [f"{s}\t{t}\tCC-BY 2.0" for s, t in sentence_pairs(400)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def prepared(pairs_file):
    return TASK.prepare(TINY, pairs_file)


def test_prepare_filters_by_length_and_batches_teacher_forcing(prepared):
    vocabulary = prepared.assets["target_vocabulary"]
    target = vocabulary.tokens
    assert target[:4] == ["", "[UNK]", "[START]", "[END]"]
    start_id, end_id = vocabulary.id("start"), vocabulary.id("end")
    assert {"rojo", "¡", "!"} <= set(target)
    inputs, target_out, weights = next(iter(prepared.train))
    source, target_in = inputs["source"].numpy(), inputs["target_in"].numpy()
    assert np.all(target_in[:, 0] == start_id)
    lengths = (target_out.numpy() > 0).sum(axis=1)
    assert np.all(target_out.numpy()[np.arange(len(lengths)), lengths - 1] == end_id)
    np.testing.assert_array_equal(
        target_in[:, 1:],
        target_out.numpy()[:, :-1] * (target_out.numpy()[:, :-1] != end_id),
    )
    np.testing.assert_array_equal(weights.numpy(), target_out.numpy() > 0)
    assert source.shape[1] <= TINY.max_length
    assert len(list(prepared.train)) == TINY.max_batches
    test_inputs, _, _ = next(iter(prepared.test))
    assert np.all(test_inputs["target_in"].numpy()[:, 0] == start_id)


def test_pairs_longer_than_max_length_are_left_out(pairs_file):
    short = TASK.prepare(dataclasses.replace(TINY, max_length=5), pairs_file)
    for frame in short.splits.values():
        assert frame["source"].str.split().str.len().max() <= 4  # + the full stop


def test_export_translates_raw_strings_and_returns_attention(prepared, tmp_path):
    config = dataclasses.replace(TINY, attention="local", local_mode="monotonic")
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    write_saved_model(TASK, model, prepared, tmp_path)
    loaded = tf.saved_model.load(str(tmp_path))
    texts = ["red dog.", "one big green house."]
    exported = loaded.translate(tf.constant(texts))
    expected = in_memory_predictor(TASK, model, prepared)(texts)
    assert exported["translation"].numpy().tolist() == expected["translation"].tolist()
    assert exported["translation"].dtype == tf.string
    attention = loaded.attention(tf.constant(texts))
    weights = attention["weights"].numpy()
    source_tokens = attention["source_tokens"].numpy()
    assert source_tokens[0].tolist()[:3] == [b"red", b"dog", b"."]
    produced = weights.sum(-1) > 0
    np.testing.assert_allclose(weights.sum(-1)[produced], 1.0, atol=1e-5)
    assert np.all(weights[0][:, source_tokens[0] == b""] == 0)
    outputs = attention["output_tokens"].numpy()
    assert np.all(produced == (outputs != b""))


def test_a_short_training_learns_word_for_word_translation(pairs_file):
    config = dataclasses.replace(
        TINY,
        max_batches=0,
        epochs=25,
        units=32,
        embedding_dim=32,
        batch_size=16,
        learning_rate=1e-2,
        beam_size=3,
    )
    prepared = TASK.prepare(config, pairs_file)
    keras.utils.set_random_seed(config.seed)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    predict = in_memory_predictor(TASK, model, prepared)
    evaluation = TASK.evaluate(predict, prepared, config)
    assert evaluation.metrics["bleu"] > 50
    assert evaluation.metrics["bleu"] > evaluation.baselines["copy_source"]["bleu"] + 40
    assert "copy_source" in evaluation.report
    figures = TASK.figures(
        in_memory_predictor(TASK, model, prepared, "attention"), prepared
    )
    assert len(figures) == 3


class TedHrlrTranslateSample(
    tfds.builder_cls("ted_hrlr_translate"), skip_registration=True
):
    """TFDS's own ted_hrlr_translate builder, fed a few local pairs instead of the download."""

    name = "ted_hrlr_translate"

    def _split_generators(self, dl_manager):
        return {
            "train": self._pairs(0, 60),
            "validation": self._pairs(60, 70),
            "test": self._pairs(70, 80),
        }

    def _pairs(self, start, stop):
        for i in range(start, stop):
            yield i, {"pt": f"obrigado {i} .", "en": f"thank you {i} ."}


def test_tfds_ted_hrlr_translate_reads_from_the_tfds_data_dir(tmp_path, monkeypatch):
    TedHrlrTranslateSample(
        config="pt_to_en", data_dir=str(tmp_path)
    ).download_and_prepare()
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    config = dataclasses.replace(TINY, source_column="pt", target_column="en")
    prepared = TASK.prepare(config, "tfds:ted_hrlr_translate/pt_to_en")
    assert len(prepared.splits["train"]) == 60 and len(prepared.splits["test"]) == 10
    assert prepared.splits["test"]["target"][0].startswith("thank you")
    with pytest.raises(UserInputError, match="source_column=pt target_column=en"):
        TASK.prepare(TINY, "tfds:ted_hrlr_translate/pt_to_en")


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"attention": "loca"}, "attention"),
        ({"units": 15}, "units must be even for a bidirectional encoder"),
        ({"beam_size": 0}, "beam_size must be at least 1"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(setting, message):
    with pytest.raises(UserInputError, match=message):
        dataclasses.replace(TINY, **setting)


def test_predict_input_must_not_be_empty():
    with pytest.raises(UserInputError, match="nothing to translate"):
        TASK.read_inputs(["", " "])


def test_decoding_settings_are_recorded_with_the_export(prepared):
    longest_target = int(token_counts(prepared.splits["train"]["target"]).max())
    assert longest_target < TINY.max_length
    assert json.loads(json.dumps(prepared.assets["decoding"])) == {
        "algorithm": "beam",
        "max_length": longest_target + 10,
        "beam_size": TINY.beam_size,
        "alpha": TINY.length_penalty,
        "block_ngram": 0,
    }


def test_a_huge_max_length_costs_only_what_the_data_needs(pairs_file):
    # max_length once set 12,500 buckets and 100,010 beam search steps.
    config = dataclasses.replace(TINY, max_length=100_000)
    prepared = TASK.prepare(config, pairs_file)
    steps = int(token_counts(prepared.splits["train"]["target"]).max()) + 10
    assert prepared.assets["decoding"]["max_length"] == steps < 20
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    outputs = in_memory_predictor(TASK, model, prepared, "attention")(["red dog."])
    assert outputs["output_tokens"].shape == (1, steps)


BLANK_AND_REAL = ["", "red dog.", "   ", "one big green house.", "\t"]


def assert_empty_batch(outputs, steps: int):
    """Every output of an empty batch has batch 0, its rank and its dtype."""
    expected = {
        "translation": ((0,), tf.string),
        "score": ((0,), tf.float32),
        "source_tokens": ((0, 0), tf.string),
        "output_tokens": ((0, steps), tf.string),
        "weights": ((0, steps, 0), tf.float32),
    }
    assert {
        key: (tuple(value.shape), value.dtype) for key, value in outputs.items()
    } == {key: expected[key] for key in outputs}


def assert_blank_rows_translate_to_nothing(call):
    """Blank texts give "" at score 0; the others what they give alone."""
    outputs = {key: value.numpy() for key, value in call(BLANK_AND_REAL).items()}
    for row, text in enumerate(BLANK_AND_REAL):
        if text.strip():
            alone = call([text])
            assert outputs["translation"][row] == alone["translation"].numpy()[0]
            assert outputs["score"][row] == pytest.approx(alone["score"][0], abs=1e-4)
        else:
            assert outputs["translation"][row] == b"" and outputs["score"][row] == 0
            if "weights" in outputs:
                assert np.all(outputs["weights"][row] == 0)
    for value in outputs.values():
        assert value.dtype == object or np.all(np.isfinite(value))


@pytest.fixture(scope="module")
def trained(prepared):
    model = TASK.build_model(TINY, prepared)
    model.fit(prepared.train.take(1), epochs=1, verbose=0, shuffle=False)
    return model


@pytest.mark.parametrize("endpoint", ["translate", "attention"])
def test_endpoints_answer_an_empty_batch_and_blank_texts(trained, prepared, endpoint):
    function, signature = TASK.endpoints(trained, prepared)[endpoint]
    compiled = tf.function(function, input_signature=signature)

    def call(texts):
        return compiled(tf.constant(texts, tf.string))

    assert_empty_batch(call([]), prepared.assets["decoding"]["max_length"])
    assert_blank_rows_translate_to_nothing(call)


def test_the_saved_model_answers_an_empty_batch_and_blank_texts(
    trained, prepared, tmp_path
):
    write_saved_model(TASK, trained, prepared, tmp_path)
    loaded = tf.saved_model.load(str(tmp_path))
    steps = prepared.assets["decoding"]["max_length"]
    endpoints = {
        "translate": loaded.translate,
        "attention": loaded.attention,
        "serving_default": lambda texts: loaded.signatures["serving_default"](
            texts=texts
        ),
    }
    for endpoint in endpoints.values():

        def call(texts, endpoint=endpoint):
            return endpoint(tf.constant(texts, tf.string))

        assert_empty_batch(call([]), steps)
        assert_blank_rows_translate_to_nothing(call)


PLACEHOLDERS = ["%s", "%d", "%1", "%(name)s", "{0}", "{count}", "$HOME", "%2$s"]
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
out = model.translate(tf.constant(sys.argv[2:]))["translation"].numpy()
print(json.dumps([t.decode() for t in out]))
"""


def software_pairs(count: int):
    """'Zab17 red dog %s at http://site3.org/p?q=5 .' -> 'Zab17 perro rojo %s
    en http://site3.org/p?q=5 .': a new name, placeholder and URL in each."""
    rng = np.random.default_rng(1)
    english = list(WORDS)
    for index in range(count):
        words = rng.choice(english, size=rng.integers(1, 4)).tolist()
        name, placeholder = f"Zab{index}", rng.choice(PLACEHOLDERS)
        url = f"http://site{rng.integers(99)}.org/p?q={rng.integers(9)}"
        yield (
            f"{name} {' '.join(words)} {placeholder} at {url}.",
            f"{name} {' '.join(WORDS[w] for w in words)} {placeholder} en {url}.",
        )


def test_placeholders_urls_and_unknown_names_survive_the_export(tmp_path):
    from tests.pipelines.pipeline_process import run_without_project

    path = tmp_path / "strings.txt"
    lines = [f"{s}\t{t}" for s, t in software_pairs(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = dataclasses.replace(
        TINY,
        max_batches=0,
        epochs=12,
        units=32,
        embedding_dim=32,
        batch_size=16,
        learning_rate=1e-2,
        source_vocabulary=40,  # the names (each seen once) stay unknown
        target_vocabulary=40,
    )
    # Seeded before the data, as the runner does: the shuffle order then does
    # not depend on which tests ran before in this process.
    keras.utils.set_random_seed(config.seed)
    prepared = TASK.prepare(config, str(path))
    assert "⟨PH1⟩" in prepared.assets["target_vocabulary"].tokens
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    write_saved_model(TASK, model, prepared, tmp_path / "export")
    texts = [
        "Qwerty red dog %(user)s at https://example.com/a?b=1&c=(2).",
        "Asdf one cat {0:>5} at http://x.org/~me.",
    ]
    result = run_without_project(CLIENT, str(tmp_path / "export"), *texts, cwd=tmp_path)
    translations = json.loads(result.stdout.strip().splitlines()[-1])
    for text, translation in zip(texts, translations, strict=True):
        name, *_, placeholder, _, url = text[:-1].split()
        assert translation.split()[0] == name  # an unknown word, from the source
        assert f" {placeholder} " in translation and f" {url}." in translation
    # Without replacement the names are the unknown token.
    keep = dataclasses.replace(config, replace_unknown=False)
    kept = TASK.prepare(keep, str(path))
    outputs = in_memory_predictor(TASK, model, kept)(texts)["translation"]
    assert all(text.decode().startswith("[UNK]") for text in outputs)
