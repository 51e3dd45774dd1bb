"""Copying models end to end: datasets over the extended vocabulary, training
with coverage on sources of padding only, and generation that writes source
words the vocabulary does not hold."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from recurrent.generation import TextGenerator, Vocabulary, compile_for_teacher_forcing
from recurrent.generation.coverage import CoverageSchedule
from recurrent.generation.datasets import copy_texts_dataset
from recurrent.models import token_seq2seq

SPECIALS = {"start": "<s>", "end": "</s>"}
COMMON = ["the", "of", "and", "a", "in"]


def _names(rng, count, prefix):
    """Made-up words (never in a vocabulary of the common words)."""
    letters = list("bcdfghjklmnprstvz")
    return [prefix + "".join(rng.choice(letters, 5)) for _ in range(count)]


def _pairs(rng, names, count):
    """Documents of two names among common words; the summary: the two names."""
    sources, targets = [], []
    for _ in range(count):
        first, second = rng.choice(names, 2, replace=False)
        filler = rng.choice(COMMON, 4)
        sources.append(
            f"{filler[0]} {first} {filler[1]} {filler[2]} {second} {filler[3]} ."
        )
        targets.append(f"{first} {second}")
    return sources, targets


def _model(vocabulary, output_mode, coverage=False):
    model = token_seq2seq(
        vocabulary.size,
        vocabulary.size,
        embedding_dim=16,
        units=32,
        share_embeddings=True,
        decoder_options={
            "attention": "bahdanau",
            "ordering": "bahdanau",
            "coverage": coverage,
        },
        output_mode=output_mode,
    )
    return compile_for_teacher_forcing(model, keras.optimizers.Adam(1e-2))


def test_the_dataset_gives_copied_target_words_their_source_ids():
    vocabulary = Vocabulary.fit(["the cat"], 10, SPECIALS)
    ((inputs, target_out, weights),) = copy_texts_dataset(
        ["the zorp cat blix zorp"], ["blix the zorp new"], vocabulary, 4
    )
    V = vocabulary.size
    np.testing.assert_array_equal(
        inputs["source_extended"][0],
        [
            vocabulary.ragged_ids(["the"])[0, 0],
            V,
            vocabulary.ragged_ids(["cat"])[0, 0],
            V + 1,
            V,
        ],
    )
    # Copied words keep the unknown id in the decoder input.
    np.testing.assert_array_equal(
        inputs["target_in"][0][1:], [1, vocabulary.ragged_ids(["the"])[0, 0], 1, 1]
    )
    end = vocabulary.id("end")
    np.testing.assert_array_equal(
        target_out[0], [V + 1, vocabulary.ragged_ids(["the"])[0, 0], V, 1, end]
    )
    np.testing.assert_array_equal(weights[0], [1, 1, 1, 1, 1])


@pytest.mark.parametrize("output_mode", ["pointer", "switch"])
def test_a_copying_model_writes_words_it_never_saw(output_mode):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    sources, targets = _pairs(rng, _names(rng, 40, "q"), 600)
    vocabulary = Vocabulary.fit(sources, 12, SPECIALS)
    assert set(vocabulary.tokens) >= set(COMMON)
    dataset = copy_texts_dataset(sources, targets, vocabulary, 32, shuffle=True, seed=0)
    model = _model(vocabulary, output_mode)
    model.fit(dataset, epochs=6, verbose=0, shuffle=False)
    generator = TextGenerator(
        model,
        vocabulary,
        vocabulary,
        {"algorithm": "greedy", "max_length": 5},
        output="summary",
    )
    new_sources, new_targets = _pairs(rng, _names(rng, 20, "w"), 20)
    summaries = [
        s.decode()
        for s in generator.generate(tf.constant(new_sources))["summary"].numpy()
    ]
    exact = sum(s == t for s, t in zip(summaries, new_targets, strict=True))
    # Every name is out of the vocabulary and unseen in training: only copying writes it.
    assert exact >= 16, list(zip(summaries, new_targets, strict=True))
    vocabulary_only = _model(vocabulary, "vocabulary")
    unknown = dataset.map(  # copied words become the unknown id
        lambda x, y, w: (
            {"source": x["source"], "target_in": x["target_in"]},
            tf.where(y >= vocabulary.size, 1, y),
            w,
        )
    )
    vocabulary_only.fit(unknown, epochs=2, verbose=0, shuffle=False)
    plain = (
        TextGenerator(
            vocabulary_only,
            vocabulary,
            vocabulary,
            {"algorithm": "greedy", "max_length": 5},
        )
        .generate(tf.constant(new_sources))["text"]
        .numpy()
    )
    assert not any(
        t.decode() == target for t, target in zip(plain, new_targets, strict=True)
    )


@pytest.mark.parametrize("output_mode", ["pointer", "switch"])
def test_coverage_training_with_rows_of_padding_stays_finite(output_mode):
    keras.utils.set_random_seed(0)
    sources = ["the zorp cat blix", "", "a b c d e f g", ""] * 8
    targets = ["zorp blix", "nothing here", "c d", "zorp"] * 8
    vocabulary = Vocabulary.fit(sources + targets, 10, SPECIALS)
    dataset = copy_texts_dataset(sources, targets, vocabulary, 4)
    model = _model(vocabulary, output_mode, coverage=True)
    assert float(model.coverage_active.numpy()) == 1.0
    history = model.fit(
        dataset, validation_data=dataset, epochs=2, verbose=0, shuffle=False
    ).history
    for name in ("loss", "val_loss", "coverage", "val_coverage"):
        assert np.isfinite(history[name]).all(), (name, history[name])
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    state = model.encode(tf.zeros((2, 0), tf.int32), tf.zeros((2, 0), tf.int32))
    log_probs, _ = model.decode_step(tf.fill([2], vocabulary.id("start")), state)
    assert np.isfinite(log_probs.numpy()).all()


class _Losses(keras.callbacks.Callback):
    """Replaces each epoch's validation loss by a scripted one (after the
    model computed its own), so the plateau falls on a known epoch."""

    def __init__(self, losses):
        super().__init__()
        self.losses = losses

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"], logs["val_coverage"] = self.losses[epoch], 0.0


class _Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.active = []

    def on_epoch_end(self, epoch, logs=None):
        self.active.append(logs["coverage_active"])


@pytest.mark.parametrize(
    "start, losses, expected",
    [
        (0, [3.0, 2.0, 2.5, 1.0, 0.5], [0, 0, 0, 1, 1]),  # on after epoch 3's plateau
        (2, [3.0, 2.0, 1.0, 0.5, 0.2], [0, 1, 1, 1, 1]),  # on from epoch 2
    ],
)
def test_the_coverage_schedule_switches_on_at_a_plateau_or_an_epoch(
    start, losses, expected, tmp_path
):
    sources, targets = ["the zorp cat"] * 8, ["zorp"] * 8
    vocabulary = Vocabulary.fit(sources, 10, SPECIALS)
    dataset = copy_texts_dataset(sources, targets, vocabulary, 4)
    model = _model(vocabulary, "pointer", coverage=True)
    model.coverage_active.assign(0.0)
    record = _Record()
    schedule = [_Losses(losses), CoverageSchedule(start), record]
    model.fit(
        dataset,
        validation_data=dataset,
        epochs=5,
        verbose=0,
        callbacks=schedule,
        shuffle=False,
    )
    assert record.active == expected
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert float(restored.coverage_active.numpy()) == 1.0


def test_beam_search_with_a_coverage_penalty_and_blocking_serves_strings():
    vocabulary = Vocabulary.fit(["the cat sat"], 10, SPECIALS)
    model = _model(vocabulary, "pointer", coverage=True)
    decoding = {
        "algorithm": "beam",
        "max_length": 6,
        "beam_size": 3,
        "min_length": 2,
        "coverage_penalty": 0.4,
        "block_ngram": 2,
    }
    generator = TextGenerator(model, vocabulary, vocabulary, decoding, output="summary")
    outputs = generator.attention(tf.constant(["the zorp sat", ""]))
    assert outputs["summary"].shape == (2,) and outputs["summary"][1] == b""
    assert outputs["p_gen"].shape == outputs["output_tokens"].shape
    assert b"[UNK]" not in outputs["output_tokens"].numpy().ravel()
    tokens = [t for t in outputs["output_tokens"][0].numpy() if t]
    assert len(tokens) >= 3  # min_length: two words at least, then the end
