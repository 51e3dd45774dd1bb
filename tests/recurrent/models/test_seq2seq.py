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


def decode_everything(model, source):
    """Beam search, greedy search and the attention weights of `source`."""
    start = ops.full(ops.shape(source)[:1], 2, "int32")
    state = model.encode(source)
    beams, scores = beam_search(model.decode_step, state, start, 3, 4, 2)
    greedy = greedy_search(model.decode_step, state, start, 3, 4)
    return beams, scores, greedy, model.attention_weights(source, beams)


# Eagerly, a source of no tokens is one padding column, and Keras warns about
# any softmax over an axis of static size 1 (a one-token source warns too).
ONE_COLUMN_SOFTMAX = pytest.mark.filterwarnings("ignore:You are using a softmax over")


@ONE_COLUMN_SOFTMAX
@pytest.mark.parametrize("options", VARIANTS[:1] + VARIANTS[2:4])
@pytest.mark.parametrize("shape", [(0, 5), (2, 0), (0, 0)])
def test_decoding_takes_an_empty_batch_and_sources_of_no_tokens(options, shape):
    model = make(**options)
    compiled = tf.function(
        lambda source: decode_everything(model, source),
        input_signature=[tf.TensorSpec([None, None], tf.int32)],
    )
    source = np.zeros(shape, "int32")
    for beams, scores, greedy, weights in (
        decode_everything(model, source),  # the batch size known: 0 or 2
        compiled(tf.constant(source)),  # the batch size unknown until run
    ):
        batch, width = shape
        assert tuple(beams.shape) == (batch, 4) and tuple(greedy.shape) == (batch, 4)
        assert tuple(scores.shape) == (batch,) and np.all(np.isfinite(scores))
        assert tuple(weights.shape) == (batch, 4, width)


@ONE_COLUMN_SOFTMAX
@pytest.mark.parametrize("options", VARIANTS)
def test_an_all_padding_row_reads_as_nothing_without_nan(options):
    model = make(**options)
    source = np.concatenate([np.zeros((1, 5), "int32"), SOURCE[:1]])
    state = model.encode(source)
    log_probs, _ = model.decode_step(TARGET_IN[:2, 0], state)
    no_tokens = model.encode(np.zeros((1, 0), "int32"))
    nothing, _ = model.decode_step(TARGET_IN[:1, 0], no_tokens)
    alone, _ = model.decode_step(TARGET_IN[:1, 0], model.encode(SOURCE[:1]))
    assert np.all(np.isfinite(log_probs))
    np.testing.assert_allclose(log_probs[:1], nothing, atol=1e-6)
    np.testing.assert_allclose(log_probs[1:], alone, atol=1e-6)
    weights = np.asarray(model.attention_weights(source, TARGET_IN[:2]))
    assert np.all(weights[0] == 0) and np.all(np.isfinite(weights))

    batch = {"source": source, "target_in": TARGET_IN[:2]}
    with tf.GradientTape() as tape:
        loss = ops.mean(ops.log_softmax(model(batch, training=True))[..., 1])
    gradients = tape.gradient(loss, model.trainable_weights)
    dense = [tf.convert_to_tensor(g) for g in gradients if g is not None]
    assert all(np.all(np.isfinite(g)) for g in dense)
