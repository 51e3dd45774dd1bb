"""Seq2Seq with an image encoder: Show, Attend and Tell's model."""

import keras
import numpy as np
import pytest

from recurrent.decoding import beam_search
from recurrent.layers.attention import doubly_stochastic_penalty
from recurrent.layers.conv import ImageEncoder
from recurrent.models import Seq2Seq
from tests.helpers.layer_checklist import assert_config_round_trip

COLOURS = {"red": (255, 0, 0), "green": (0, 160, 0), "blue": (0, 0, 255)}
PLACES = {"top left": (0, 0), "top right": (0, 8), "bottom left": (8, 0)}
WORDS = ["red", "green", "blue", "top", "bottom", "left", "right"]
START, END = 1, 2  # ids 3.. are WORDS


def squares(count: int, seed: int):
    """White 16 px images with one coloured 8 px square, and its caption ids."""
    rng = np.random.default_rng(seed)
    images = np.full((count, 16, 16, 3), 255, np.uint8)
    captions = []
    for index in range(count):
        colour = rng.choice(list(COLOURS))
        place = rng.choice(list(PLACES))
        row, col = PLACES[place]
        images[index, row : row + 8, col : col + 8] = COLOURS[colour]
        words = [colour, *place.split()]
        captions.append([3 + WORDS.index(word) for word in words])
    return images, np.array(captions, "int32")


def captioner(attention="bahdanau", regularization=0.0, seed=3):
    keras.utils.set_random_seed(seed)
    return Seq2Seq(
        ImageEncoder(16, depth=2, width=8, name="encoder"),
        3 + len(WORDS),
        embedding_dim=8,
        units=16,
        decoder_options={
            "attention": attention,
            "ordering": "bahdanau",
            "gate": attention != "none",
            "deep_output": True,
        },
        attention_regularization=regularization,
    )


def teacher_forcing(captions):
    starts = np.full((len(captions), 1), START, "int32")
    ends = np.full((len(captions), 1), END, "int32")
    return np.concatenate([starts, captions], 1), np.concatenate([captions, ends], 1)


def test_the_penalty_is_zero_when_every_region_is_attended_once_over_the_caption():
    once = np.eye(3, dtype="float32")[None]  # 3 steps, 3 regions
    assert float(doubly_stochastic_penalty(once)) == pytest.approx(0.0)
    stuck = np.tile(np.array([[1.0, 0.0, 0.0]], "float32"), (3, 1))[None]
    # sums (3, 0, 0): ((1-3)^2 + 1 + 1) / 3
    assert float(doubly_stochastic_penalty(stuck)) == pytest.approx(2.0)
    steps = np.array([[True, False, False]])
    assert float(doubly_stochastic_penalty(stuck, steps)) == pytest.approx(2 / 3)
    regions = np.array([[True, False, False]])
    assert float(doubly_stochastic_penalty(stuck, steps, regions)) == pytest.approx(0)


def test_the_penalty_joins_the_loss_with_its_weight_lambda():
    images, captions = squares(8, seed=0)
    target_in, target_out = teacher_forcing(captions)
    losses = {}
    for weight in (0.0, 5.0):
        model = captioner(regularization=weight)
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
        results = model.evaluate(
            {"source": images, "target_in": target_in},
            target_out,
            verbose=0,
            return_dict=True,
        )
        losses[weight] = results
    penalty = losses[5.0]["attention_penalty"]
    assert penalty > 0 and "attention_penalty" not in losses[0.0]
    assert losses[5.0]["loss"] == pytest.approx(losses[0.0]["loss"] + 5 * penalty, 1e-4)
    with pytest.raises(ValueError, match="attention other than 'none'"):
        captioner(attention="none", regularization=1.0)


def test_config_keras_file_and_kept_initialisers(tmp_path):
    model = captioner(regularization=1.0)
    assert_config_round_trip(model)
    images, captions = squares(2, seed=1)
    target_in, _ = teacher_forcing(captions)
    inputs = {"source": images, "target_in": target_in}
    logits = model(inputs)
    assert logits.shape == (2, 4, 3 + len(WORDS))
    # Batch normalisation starts at gamma 1; the decoder's weights are uniform.
    gammas = [w for w in model.encoder.weights if w.path.endswith("gamma")]
    assert gammas and all(np.allclose(w.numpy(), 1.0) for w in gammas)
    assert np.abs(model.decoder.project.kernel.numpy()).max() <= 0.1
    model.save(tmp_path / "captioner.keras")
    restored = keras.saving.load_model(tmp_path / "captioner.keras")
    np.testing.assert_allclose(restored(inputs), logits, atol=1e-5)


def test_a_tiny_captioner_learns_colour_and_place_that_no_fixed_caption_gets():
    images, captions = squares(240, seed=2)
    target_in, target_out = teacher_forcing(captions)
    model = captioner(regularization=1.0)
    model.compile(
        keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(True)
    )
    model.fit(
        {"source": images, "target_in": target_in},
        target_out,
        batch_size=16,
        epochs=12,
        verbose=0,
    )
    test_images, test_captions = squares(60, seed=9)
    state = model.encode(test_images)
    start = np.full((60,), START, "int32")
    result = beam_search(model.decode_step, state, start, END, 5, beam_size=2)
    decoded = np.array(result["tokens"])[:, :3]
    exact = (decoded == test_captions).all(axis=1).mean()
    # The most frequent caption is right on about one image in nine.
    values, counts = np.unique(test_captions, axis=0, return_counts=True)
    assert exact >= 0.8 > counts.max() / 60 + 0.3, exact
