import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from recurrent.decoding import beam_search, greedy_search
from recurrent.models import Seq2Seq, TokenEncoder, token_seq2seq
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
DECODER_OPTIONS = ("attention", "score", "local_mode", "window", "input_feeding")


def make(**options):
    """A tiny token Seq2Seq; decoder settings go in `decoder_options`."""
    keras.utils.set_random_seed(7)
    decoder = {k: options.pop(k) for k in DECODER_OPTIONS if k in options}
    return token_seq2seq(
        30, 20, embedding_dim=6, units=8, decoder_options=decoder, **options
    )


def inputs():
    return {"source": SOURCE, "target_in": TARGET_IN}


def test_config_round_trip_with_a_nested_encoder():
    model = make(attention="local", input_feeding=True, dropout=0.1)
    assert_config_round_trip(model)
    config = model.get_config()
    assert config["encoder"]["class_name"] == "TokenEncoder"
    assert config["decoder_options"] == {
        "dropout": 0.1,
        "attention": "local",
        "input_feeding": True,
    }
    assert_config_round_trip(TokenEncoder(30, embedding_dim=6, units=8))


@pytest.mark.parametrize("options", VARIANTS)
def test_stepping_from_encode_reproduces_the_teacher_forced_logits(options):
    model = make(**options)
    logits = ops.log_softmax(model(inputs()), axis=-1)
    state = model.encode(SOURCE)
    for t in range(TARGET_IN.shape[1]):
        log_probs, state = model.decode_step(TARGET_IN[:, t], state, t)
        valid = TARGET_IN[:, t] > 0
        np.testing.assert_allclose(
            np.asarray(log_probs)[valid], np.asarray(logits[:, t])[valid], atol=1e-5
        )


@pytest.mark.parametrize("options", VARIANTS[:1] + VARIANTS[3:4])
def test_attention_weights_sum_to_one_over_the_real_source_tokens(options):
    model = make(**options)
    logits, attention = model(inputs(), return_attention=True)
    weights = np.asarray(attention["weights"])
    assert weights.shape == (3, 4, 5) and tuple(logits.shape) == (3, 4, 20)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[1, :, 2:] == 0) and np.all(weights[0, :, 4] == 0)
    assert tuple(attention["contexts"].shape) == (3, 4, 8)
    _, forced = model.teacher_forced(SOURCE, TARGET_IN)
    np.testing.assert_allclose(forced, weights, atol=1e-6)


@pytest.mark.parametrize("options", VARIANTS[:1] + VARIANTS[2:4])
def test_decode_step_state_holds_the_attention_weights_of_each_step(options):
    model = make(**options)
    _, attention = model(inputs(), return_attention=True)
    state = model.encode(SOURCE)
    assert np.all(np.asarray(state["attention"]) == 0)
    assert tuple(state["attention"].shape) == (3, 5)
    for t in range(TARGET_IN.shape[1]):
        _, state = model.decode_step(TARGET_IN[:, t], state, t)
        valid = TARGET_IN[:, t] > 0
        np.testing.assert_allclose(
            np.asarray(state["attention"])[valid],
            np.asarray(attention["weights"][:, t])[valid],
            atol=1e-5,
        )


def test_beam_search_returns_the_attention_of_the_chosen_tokens():
    model = make(attention="global")
    start = np.full((3,), 2, "int32")
    result = beam_search(
        model.decode_step,
        model.encode(SOURCE),
        start,
        3,
        4,
        beam_size=2,
        attention_key="attention",
    )
    tokens = np.asarray(result["tokens"])
    shifted = np.concatenate([start[:, None], tokens[:, :-1]], axis=1)
    _, weights = model.teacher_forced(SOURCE, shifted)
    produced = np.cumsum(tokens == 3, axis=1) - (tokens == 3) == 0
    np.testing.assert_allclose(
        np.asarray(result["attention"])[produced], np.asarray(weights)[produced], 1e-4
    )


def test_shared_embeddings_are_one_weight_and_survive_a_keras_file(tmp_path):
    keras.utils.set_random_seed(3)
    model = token_seq2seq(30, 30, embedding_dim=6, units=8, share_embeddings=True)
    model(inputs())
    assert model.encoder.embedding is model.decoder.embedding
    embeddings = [w for w in model.weights if w.path.endswith("embeddings")]
    assert len(embeddings) == 1
    separate = token_seq2seq(30, 30, embedding_dim=6, units=8)
    separate(inputs())
    assert len(model.weights) == len(separate.weights) - 1
    model.save(tmp_path / "shared.keras")
    restored = keras.saving.load_model(tmp_path / "shared.keras")
    assert restored.encoder.embedding is restored.decoder.embedding
    np.testing.assert_allclose(restored(inputs()), model(inputs()), atol=1e-6)
    with pytest.raises(ValueError, match="one vocabulary"):
        token_seq2seq(30, 20, embedding_dim=6, units=8, share_embeddings=True)


def test_init_scale_draws_every_weight_but_biases_uniformly():
    model = make(init_scale=0.05)
    model.build()
    # The one state that is not a weight to learn keeps its value.
    assert [w.name for w in model.non_trainable_weights] == ["coverage_active"]
    for weight in model.trainable_weights:
        values = np.abs(weight.numpy())
        if weight.path.endswith("bias"):
            continue
        assert values.max() <= 0.05 and values.max() > 0.02, weight.path


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
    assert isinstance(restored, Seq2Seq)
    np.testing.assert_allclose(restored(inputs()), model(inputs()), atol=1e-6)


CELLS, BRIDGES = ("lstm", "gru", "simple"), ("dense", "copy", "zero")
ATTENTIONS = ("none", "global", "local", "bahdanau")


# With bridge "zero" and no attention the decoder never sees the encoder.
@pytest.mark.filterwarnings("ignore:Gradients do not exist for variables")
@pytest.mark.parametrize(
    "cell, bridge, attention", list(itertools.product(CELLS, BRIDGES, ATTENTIONS))
)
def test_every_cell_bridge_and_attention_trains_a_step_and_beam_decodes(
    cell, bridge, attention
):
    model = make(cell=cell, bridge=bridge, attention=attention, window=1)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,
    )
    history = model.fit(inputs(), np.roll(TARGET_IN, -1, axis=1), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    start = np.full((3,), 2, "int32")
    result = beam_search(
        model.decode_step,
        model.encode(SOURCE),
        start,
        3,
        3,
        beam_size=2,
        attention_key="attention",
    )
    assert tuple(result["tokens"].shape) == (3, 3)
    assert tuple(result["attention"].shape) == (3, 3, 5)
    assert np.all(np.isfinite(result["scores"]))


def test_compiled_beam_and_greedy_decoding_match_eager_decoding():
    model = make(attention="global", score="concat")
    start = np.full((3,), 2, "int32")

    def decode(source):
        state = model.encode(source)
        result = beam_search(model.decode_step, state, start, 3, 6, 3)
        greedy = greedy_search(model.decode_step, state, start, 3, 6)
        return result["tokens"], result["scores"], greedy

    eager = decode(SOURCE)
    compiled = tf.function(decode)(tf.constant(SOURCE))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), atol=1e-5)


def test_a_bidirectional_encoder_needs_even_units():
    with pytest.raises(ValueError, match="units must be even"):
        token_seq2seq(10, 10, units=7)


def decode_everything(model, source):
    """Beam search, greedy search and the attention weights of `source`."""
    start = ops.full(ops.shape(source)[:1], 2, "int32")
    state = model.encode(source)
    result = beam_search(model.decode_step, state, start, 3, 4, 2)
    greedy = greedy_search(model.decode_step, state, start, 3, 4)
    _, weights = model.teacher_forced(source, result["tokens"])
    return result["tokens"], result["scores"], greedy, weights


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
        # A source of no tokens is attended as one masked position.
        assert tuple(weights.shape) == (batch, 4, max(width, 1))
        assert np.all(np.asarray(weights) == 0) or width


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
    _, weights = model.teacher_forced(source, TARGET_IN[:2])
    weights = np.asarray(weights)
    assert np.all(weights[0] == 0) and np.all(np.isfinite(weights))

    batch = {"source": source, "target_in": TARGET_IN[:2]}
    with tf.GradientTape() as tape:
        loss = ops.mean(ops.log_softmax(model(batch, training=True))[..., 1])
    gradients = tape.gradient(loss, model.trainable_weights)
    dense = [tf.convert_to_tensor(g) for g in gradients if g is not None]
    assert all(np.all(np.isfinite(g)) for g in dense)
