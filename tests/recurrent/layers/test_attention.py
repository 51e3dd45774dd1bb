import keras
import numpy as np
import pytest

from recurrent.errors import UserInputError
from recurrent.layers import attention
from recurrent.layers.attention import BahdanauAttention, LocalAttention, LuongAttention
from tests.helpers.layer_checklist import (
    assert_all_weights_train,
    assert_config_round_trip,
    assert_keras_file_round_trip,
)

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(2, 3, 4)).astype("float32")
MEMORY = RNG.normal(size=(2, 7, 4)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]], bool)
LAYERS = [
    lambda: LuongAttention("dot"),
    lambda: LuongAttention("general"),
    lambda: LuongAttention("concat", units=5),
    lambda: LocalAttention("monotonic", window=1),
    lambda: LocalAttention("predictive", window=2, score="concat", units=5),
    lambda: BahdanauAttention(6),
]


def _softmax(scores, valid):
    scores = np.where(valid, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


@pytest.mark.parametrize("make", LAYERS)
def test_config_round_trip(make):
    layer = make()
    layer(QUERY, MEMORY, MASK)
    assert_config_round_trip(layer)


@pytest.mark.parametrize("make", LAYERS)
def test_weights_sum_to_one_over_valid_positions_and_are_zero_on_padding(make):
    context, weights = make()(QUERY, MEMORY, MASK)
    weights = np.array(weights)
    assert weights.shape == (2, 3, 7) and context.shape == (2, 3, 4)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights[1, :, 4:], 0.0)
    np.testing.assert_allclose(context, weights @ MEMORY, atol=1e-5)


@pytest.mark.parametrize("make", LAYERS)
def test_one_step_equals_the_matching_row_of_a_sequence(make):
    layer = make()
    context, weights = layer(QUERY, MEMORY, MASK)
    step_context, step_weights = layer(
        QUERY[:, 2], MEMORY, MASK, positions=np.array([2, 2])
    )
    np.testing.assert_allclose(step_weights, np.array(weights)[:, 2], atol=1e-6)
    np.testing.assert_allclose(step_context, np.array(context)[:, 2], atol=1e-6)


def test_symbolic_shapes_match_compute_output_shape():
    query, memory = keras.Input((None, 4)), keras.Input((None, 4))
    mask = keras.Input((None,), dtype="bool")
    layer = LuongAttention("general")
    context, weights = layer(query, memory, mask)
    assert (tuple(context.shape), tuple(weights.shape)) == layer.compute_output_shape(
        (None, None, 4), (None, None, 4)
    )


def test_dot_needs_equal_sizes_and_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="use score='general'"):
        LuongAttention("dot")(QUERY, RNG.normal(size=(2, 7, 5)).astype("float32"))
    with pytest.raises(UserInputError, match="concat, dot, general"):
        LuongAttention("cosine")
    with pytest.raises(UserInputError, match="bahdanau, global, local"):
        attention.get("hard")
    assert isinstance(attention.get("local", mode="monotonic"), LocalAttention)


def test_dot_and_general_scores_match_numpy():
    _, weights = LuongAttention("dot")(QUERY, MEMORY, MASK)
    scores = QUERY @ MEMORY.transpose(0, 2, 1)
    np.testing.assert_allclose(weights, _softmax(scores, MASK[:, None]), atol=1e-6)
    layer = LuongAttention("general")
    layer.build(QUERY.shape, MEMORY.shape)
    kernel = RNG.normal(size=(4, 4)).astype("float32")
    layer.set_weights([kernel])
    _, weights = layer(QUERY, MEMORY, MASK)
    expected = _softmax(QUERY @ kernel @ MEMORY.transpose(0, 2, 1), MASK[:, None])
    np.testing.assert_allclose(weights, expected, atol=1e-5)


@pytest.mark.parametrize("layer_class", [LuongAttention, BahdanauAttention])
def test_concat_and_additive_scores_match_numpy(layer_class):
    layer = (
        LuongAttention("concat", units=3)
        if layer_class is LuongAttention
        else BahdanauAttention(3)
    )
    layer.build(QUERY.shape, MEMORY.shape)
    wq, wm, v = (RNG.normal(size=w.shape).astype("float32") for w in layer.weights)
    layer.set_weights([wq, wm, v])
    _, weights = layer(QUERY, MEMORY, MASK)
    scores = np.tanh((QUERY @ wq)[:, :, None] + (MEMORY @ wm)[:, None]) @ v
    np.testing.assert_allclose(weights, _softmax(scores, MASK[:, None]), atol=1e-5)


def test_local_monotonic_attends_only_inside_the_window_around_t():
    _, weights = LocalAttention("monotonic", window=1, score="dot")(QUERY, MEMORY, MASK)
    weights = np.array(weights)
    for t in range(3):
        outside = [s for s in range(7) if abs(s - t) > 1]
        np.testing.assert_allclose(weights[:, t, outside], 0.0)
    scores = QUERY @ MEMORY.transpose(0, 2, 1)
    window = (np.abs(np.arange(7)[None, :] - np.arange(3)[:, None]) <= 1)[None] & MASK[
        :, None
    ]
    np.testing.assert_allclose(weights, _softmax(scores, window), atol=1e-6)


def test_local_monotonic_clips_positions_past_the_source_end():
    _, weights = LocalAttention("monotonic", window=1, score="dot")(
        QUERY[:, 0], MEMORY, MASK, positions=np.array([6, 6])
    )
    np.testing.assert_allclose(np.array(weights)[1, [3]], np.array(weights)[1, [3]])
    assert np.array(weights)[1, 2:4].sum() == pytest.approx(
        1.0, abs=1e-6
    )  # centred on s = 3


def test_local_predictive_centre_and_gaussian_match_the_paper():
    layer = LocalAttention("predictive", window=2, score="dot", units=3)
    layer.build(QUERY.shape, MEMORY.shape)
    wp, vp = (RNG.normal(size=w.shape).astype("float32") for w in layer.weights)
    layer.set_weights([wp, vp])
    _, weights = layer(QUERY, MEMORY, MASK)
    source_length = MASK.sum(-1)[:, None]
    centre = source_length / (1 + np.exp(-(np.tanh(QUERY @ wp) @ vp)))
    distance = np.arange(7)[None, None, :] - centre[..., None]
    valid = (np.abs(distance) <= 2) & MASK[:, None]
    scores = QUERY @ MEMORY.transpose(0, 2, 1) - distance**2 / (2 * 1.0**2)
    np.testing.assert_allclose(weights, _softmax(scores, valid), atol=1e-5)


@pytest.mark.parametrize("make", LAYERS[1:])
def test_every_weight_trains_and_survives_a_keras_file(make, tmp_path):
    query, memory = keras.Input((3, 4)), keras.Input((7, 4))
    context, _ = make()(query, memory)
    model = keras.Model(
        [query, memory], keras.layers.Dense(1)(keras.layers.Flatten()(context))
    )
    assert_all_weights_train(model, [QUERY, MEMORY], np.array([[1.0], [-1.0]]))
    assert_keras_file_round_trip(model, [QUERY, MEMORY], tmp_path)


COVERAGE = np.abs(RNG.normal(size=(2, 3, 7))).astype("float32") * MASK[:, None]
COVERAGE_LAYERS = [
    lambda: LuongAttention("dot", coverage=True),
    lambda: LuongAttention("general", coverage=True),
    lambda: LuongAttention("concat", units=5, coverage=True),
    lambda: LocalAttention("monotonic", window=1, coverage=True),
    lambda: LocalAttention("predictive", window=2, score="concat", coverage=True),
    lambda: BahdanauAttention(6, coverage=True),
    lambda: BahdanauAttention(6, coverage=True, use_bias=True),
]


def _with_random_weights(layer):
    layer.build(QUERY.shape, MEMORY.shape)
    layer.set_weights(
        [RNG.normal(size=w.shape).astype("float32") for w in layer.weights]
    )
    return layer


@pytest.mark.parametrize("make", COVERAGE_LAYERS)
def test_coverage_layers_keep_the_weight_contract_step_by_step(make):
    layer = _with_random_weights(make())
    assert_config_round_trip(layer)
    context, weights = layer(QUERY, MEMORY, MASK, coverage=COVERAGE)
    weights = np.array(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(weights[1, :, 4:], 0.0)
    np.testing.assert_allclose(context, weights @ MEMORY, atol=1e-5)
    _, without = layer(QUERY, MEMORY, MASK)
    assert not np.allclose(weights, without, atol=1e-4)  # coverage moves the scores
    step_context, step_weights = layer(
        QUERY[:, 2], MEMORY, MASK, positions=np.array([2, 2]), coverage=COVERAGE[:, 2]
    )
    np.testing.assert_allclose(step_weights, weights[:, 2], atol=1e-6)
    np.testing.assert_allclose(step_context, np.array(context)[:, 2], atol=1e-5)


@pytest.mark.parametrize("make", LAYERS + COVERAGE_LAYERS)
def test_a_memory_row_of_padding_gives_zeros_not_nan(make):
    mask = MASK.copy()
    mask[1] = False
    layer = make()
    extra = {"coverage": COVERAGE} if layer.coverage else {}
    context, weights = layer(QUERY, MEMORY, mask, **extra)
    assert np.isfinite(np.array(context)).all() and np.isfinite(weights).all()
    np.testing.assert_allclose(np.array(weights)[1], 0.0)
    np.testing.assert_allclose(np.array(context)[1], 0.0)
    np.testing.assert_allclose(np.array(weights)[0].sum(-1), 1.0, atol=1e-5)


def test_coverage_scores_match_numpy():
    layer = _with_random_weights(LuongAttention("general", coverage=True))
    kernel, coverage_kernel = (w.numpy() for w in layer.weights)
    _, weights = layer(QUERY, MEMORY, MASK, coverage=COVERAGE)
    scores = QUERY @ kernel @ MEMORY.transpose(0, 2, 1) + coverage_kernel * COVERAGE
    np.testing.assert_allclose(weights, _softmax(scores, MASK[:, None]), atol=1e-5)
    layer = _with_random_weights(BahdanauAttention(3, coverage=True, use_bias=True))
    wq, wm, v, wc, b = (w.numpy() for w in layer.weights)
    _, weights = layer(QUERY, MEMORY, MASK, coverage=COVERAGE)
    hidden = (QUERY @ wq)[:, :, None] + (MEMORY @ wm)[:, None]
    scores = np.tanh(hidden + COVERAGE[..., None] * wc + b) @ v
    np.testing.assert_allclose(weights, _softmax(scores, MASK[:, None]), atol=1e-5)


def test_coverage_starts_neutral_and_needs_the_option():
    layer = BahdanauAttention(4, coverage=True)
    _, with_coverage = layer(QUERY, MEMORY, MASK, coverage=COVERAGE)
    _, without = layer(QUERY, MEMORY, MASK)
    np.testing.assert_allclose(with_coverage, without, atol=1e-6)  # w_c = 0
    with pytest.raises(ValueError, match="coverage=True"):
        BahdanauAttention(4)(QUERY, MEMORY, MASK, coverage=COVERAGE)


def test_registry_names_every_attention_and_none_builds_nothing():
    assert attention.NAMES == ("none", "global", "local", "bahdanau")
    assert attention.get("none") is None and attention.get("None") is None
    assert isinstance(attention.get("global", score="dot"), LuongAttention)
    layer = attention.get(
        "bahdanau", lenient=True, score="dot", mode="monotonic", units=3, coverage=True
    )
    assert isinstance(layer, BahdanauAttention) and layer.units == 3 and layer.coverage
    local = attention.get("local", lenient=True, mode="monotonic", window=2, name="a")
    assert (local.mode, local.window, local.name) == ("monotonic", 2, "a")
    with pytest.raises(ValueError, match="score"):
        attention.get("bahdanau", score="dot")
    with pytest.raises(UserInputError, match="bahdanau, global, local, none"):
        attention.get("hard")


@pytest.mark.parametrize("make", COVERAGE_LAYERS[1:])
def test_every_coverage_weight_trains_and_survives_a_keras_file(make, tmp_path):
    query, memory = keras.Input((3, 4)), keras.Input((7, 4))
    coverage = keras.Input((3, 7))
    context, _ = make()(query, memory, coverage=coverage)
    model = keras.Model(
        [query, memory, coverage],
        keras.layers.Dense(1)(keras.layers.Flatten()(context)),
    )
    x = [QUERY, MEMORY, COVERAGE]
    assert_all_weights_train(model, x, np.array([[1.0], [-1.0]]))
    assert_keras_file_round_trip(model, x, tmp_path)
