import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from recurrent.decoding import beam_search, greedy_search
from recurrent.models import Seq2Seq
from tests.helpers.layer_checklist import assert_config_round_trip

SOURCE = np.array([[4, 5, 6, 7, 0], [8, 9, 0, 0, 0], [3, 4, 5, 6, 7]], "int32")
TARGET_IN = np.array([[2, 5, 6, 9], [2, 7, 0, 0], [2, 4, 4, 8]], "int32")
VARIANTS = [
    {"attention": "global", "score": "general"},
    {"attention": "global", "score": "dot", "cell": "gru", "bridge": "copy"},
    {"attention": "local", "local_mode": "predictive", "window": 1},
    {"attention": "local", "local_mode": "monotonic", "input_feeding": True},
    {"attention": "none", "bidirectional": False, "encoder_layers": 2},
]


def make(**options):
    keras.utils.set_random_seed(7)
    return Seq2Seq(30, 20, embedding_dim=6, units=8, **options)


def inputs():
    return {"source": SOURCE, "target_in": TARGET_IN}


def test_config_round_trip():
    assert_config_round_trip(make(attention="local", input_feeding=True))


@pytest.mark.parametrize("options", VARIANTS)
def test_stepping_from_encode_reproduces_the_teacher_forced_logits(options):
    model = make(**options)
    logits = ops.log_softmax(model(inputs()), axis=-1)
    state = model.encode(SOURCE)
    for t in range(TARGET_IN.shape[1]):
        log_probs, state = model.decode_step(TARGET_IN[:, t], state)
        valid = TARGET_IN[:, t] > 0
        np.testing.assert_allclose(
            np.asarray(log_probs)[valid], np.asarray(logits[:, t])[valid], atol=1e-5
        )


@pytest.mark.parametrize("options", VARIANTS[:1] + VARIANTS[3:4])
def test_attention_weights_sum_to_one_over_the_real_source_tokens(options):
    weights = np.asarray(make(**options).attention_weights(SOURCE, TARGET_IN))
    assert weights.shape == (3, 4, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[1, :, 2:] == 0) and np.all(weights[0, :, 4] == 0)


def test_every_weight_trains_and_the_keras_file_reloads_identically(tmp_path):
    model = make(attention="local", local_mode="predictive", init_scale=0.5)
    model(inputs())  # builds every weight before the step
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.fit(inputs(), np.roll(TARGET_IN, -1, axis=1), epochs=1, verbose=0)
    unchanged = [
        w.path
        for w, old in zip(model.trainable_weights, before, strict=True)
        if np.allclose(w.numpy(), old)
    ]
    assert not unchanged
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(restored(inputs()), model(inputs()), atol=1e-6)


def test_compiled_beam_and_greedy_decoding_match_eager_decoding():
    model = make(attention="global", score="concat")
    start = np.full((3,), 2, "int32")

    def decode(source):
        state = model.encode(source)
        beams, scores = beam_search(model.decode_step, state, start, 3, 6, 3)
        return beams, scores, greedy_search(model.decode_step, state, start, 3, 6)

    eager = decode(SOURCE)
    compiled = tf.function(decode)(tf.constant(SOURCE))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), atol=1e-5)


def test_a_bidirectional_encoder_needs_even_units():
    with pytest.raises(ValueError, match="units must be even"):
        Seq2Seq(10, 10, units=7)
