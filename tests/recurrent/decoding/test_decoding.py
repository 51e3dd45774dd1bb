import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from recurrent.decoding import beam_search, greedy_search, length_penalty, sample
from recurrent.decoding.sampling import filter_logits

START, END, A, B, C = 1, 2, 3, 4, 5
VOCABULARY = 6
LOW = -1e4


def table_step(table):
    """A step function whose log-probs depend only on (step, previous token)."""
    table = np.asarray(table, "float32")
    flat = ops.convert_to_tensor(table.reshape(-1, VOCABULARY))

    def step_fn(tokens, state):
        step = state["step"]
        return ops.take(flat, step * VOCABULARY + tokens, axis=0), {"step": step + 1}

    return step_fn


def table(steps, rules):
    """`rules[(step, previous)] = {next: log_prob}`; everything else is very unlikely."""
    values = np.full((steps, VOCABULARY, VOCABULARY), LOW, "float32")
    values[:, :, END] = -5.0  # ending is always possible
    for (step, previous), options in rules.items():
        for token, log_prob in options.items():
            values[step, previous, token] = log_prob
    return values


def start(batch=1):
    return np.full((batch,), START, "int32"), {"step": np.zeros((batch,), "int32")}


GARDEN_PATH = table(
    3,
    {
        (0, START): {A: np.log(0.6), B: np.log(0.4)},
        (1, A): {A: np.log(0.25), B: np.log(0.25), C: np.log(0.25), END: np.log(0.25)},
        (1, B): {END: np.log(0.9)},
    },
)


def test_beam_finds_the_sequence_greedy_misses():
    tokens, state = start()
    greedy = np.array(greedy_search(table_step(GARDEN_PATH), state, tokens, END, 3))
    assert greedy[0, 0] == A  # 0.6 now, at most 0.6 * 0.25 = 0.15 in all
    best, score = beam_search(
        table_step(GARDEN_PATH), state, tokens, END, 3, beam_size=2, alpha=0
    )
    assert np.array(best).tolist() == [[B, END, END]]  # 0.4 * 0.9 = 0.36
    assert float(score[0]) == pytest.approx(np.log(0.36), abs=1e-5)


SHORT_OR_LONG = table(
    4,
    {
        (0, START): {A: -0.5, B: -0.7},
        (1, A): {END: -0.5},
        (1, B): {C: -0.1},
        (2, C): {C: -0.2},
        (3, C): {END: -0.2},
    },
)


@pytest.mark.parametrize(
    "alpha,expected", [(0.0, [A, END, END, END]), (2.0, [B, C, C, END])]
)
def test_the_length_penalty_moves_the_choice_to_longer_output(alpha, expected):
    tokens, state = start()
    best, score = beam_search(
        table_step(SHORT_OR_LONG), state, tokens, END, 4, beam_size=2, alpha=alpha
    )
    assert np.array(best)[0].tolist() == expected
    length = 2 if expected[1] == END else 4
    raw = -1.0 if length == 2 else -1.2
    assert float(score[0]) == pytest.approx(
        raw / float(length_penalty(length, alpha)), abs=1e-5
    )


def test_finished_sequences_stay_finished_at_no_cost():
    tokens, state = start(2)
    best, score = beam_search(
        table_step(SHORT_OR_LONG), state, tokens, END, 4, beam_size=3, alpha=0.0
    )
    assert np.array(best).tolist() == [[A, END, END, END]] * 2
    assert np.allclose(score, -1.0)  # the END tokens after the first added nothing
    greedy = np.array(greedy_search(table_step(SHORT_OR_LONG), state, tokens, END, 4))
    assert greedy.tolist() == [[A, END, END, END]] * 2


EARLY_ENDINGS = table(
    6,
    {
        (0, START): {A: -0.1, B: -0.3},
        (1, A): {A: -0.6},
        (1, B): {END: -1.5},
        (2, A): {A: -0.6},
        (3, A): {A: -0.6, END: -0.55},
        (4, A): {A: -0.6},
        (5, A): {END: -0.1},
    },
)


def test_sequences_that_end_early_never_crowd_out_a_longer_better_one():
    # By summed log-probability the two early endings [B, END] (-1.8) and
    # [A, A, A, END] (-1.85) beat the unfinished [A, A, A, A] (-1.9) at step 3;
    # kept in the beam they would prune it. Normalised, the long one wins.
    tokens, state = start()
    best, score = beam_search(
        table_step(EARLY_ENDINGS), state, tokens, END, 6, beam_size=2, alpha=2.0
    )
    assert np.array(best)[0].tolist() == [A, A, A, A, A, END]
    assert float(score[0]) == pytest.approx(
        -2.6 / float(length_penalty(6, 2.0)), abs=1e-5
    )


def test_ngram_blocking_prevents_repeats():
    rules = {
        (step, prev): {A: -0.1, B: -1.0, C: -2.0}
        for step in range(6)
        for prev in (START, A, B, C)
    }
    repeat = table(6, rules)
    tokens, state = start()
    plain, _ = beam_search(table_step(repeat), state, tokens, END, 6, beam_size=1)
    assert np.array(plain)[0].tolist() == [A] * 6
    blocked, _ = beam_search(
        table_step(repeat), state, tokens, END, 6, beam_size=1, block_ngram=2
    )
    sequence = np.array(blocked)[0].tolist()
    bigrams = list(zip(sequence, sequence[1:], strict=False))
    assert len(bigrams) == len(set(bigrams)), sequence


def _random_table(seed=0, steps=5):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(steps, VOCABULARY, VOCABULARY)) * 3
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype("float32")


def test_sampling_with_top_k_one_or_tiny_top_p_equals_greedy():
    values = _random_table()
    tokens = np.array([START, A, B, C], "int32")
    state = {"step": np.zeros((4,), "int32")}
    greedy = np.array(greedy_search(table_step(values), state, tokens, END, 5))
    top_k = np.array(sample(table_step(values), state, tokens, END, 5, top_k=1, seed=3))
    top_p = np.array(
        sample(table_step(values), state, tokens, END, 5, top_p=1e-6, seed=4)
    )
    np.testing.assert_array_equal(top_k, greedy)
    np.testing.assert_array_equal(top_p, greedy)


def test_sampling_is_repeatable_with_a_seed_and_varies_with_temperature():
    values = _random_table(1)
    tokens = np.full((64,), START, "int32")
    state = {"step": np.zeros((64,), "int32")}
    first = np.array(
        sample(table_step(values), state, tokens, END, 5, temperature=2.0, seed=7)
    )
    again = np.array(
        sample(table_step(values), state, tokens, END, 5, temperature=2.0, seed=7)
    )
    np.testing.assert_array_equal(first, again)
    assert len({tuple(row) for row in first}) > 1


def test_filter_logits_keeps_the_top_k_and_the_nucleus():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]], "float32"))
    kept_k = np.array(filter_logits(logits, top_k=2))[0] > -1e8
    assert kept_k.tolist() == [True, True, False, False]
    kept_p = np.array(filter_logits(logits, top_p=0.7))[0] > -1e8
    assert kept_p.tolist() == [True, True, False, False]  # 0.5 < 0.7 <= 0.5 + 0.3


def test_compiled_decoding_matches_eager():
    values = _random_table(2)
    tokens = np.array([START, A], "int32")
    state = {"step": np.zeros((2,), "int32")}

    @tf.function
    def compiled(tokens, state):
        return beam_search(
            table_step(values), state, tokens, END, 5, beam_size=3, block_ngram=2
        )

    eager = beam_search(
        table_step(values), state, tokens, END, 5, beam_size=3, block_ngram=2
    )
    traced = compiled(tf.constant(tokens), {"step": tf.constant(state["step"])})
    np.testing.assert_array_equal(np.array(traced[0]), np.array(eager[0]))
    np.testing.assert_allclose(np.array(traced[1]), np.array(eager[1]), atol=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
def test_every_algorithm_decodes_an_empty_batch(compiled):
    step_fn = table_step(_random_table(3))
    generator = keras.random.SeedGenerator(5)

    def decode(tokens, steps):
        state = {"step": steps}
        beams, scores = beam_search(step_fn, state, tokens, END, 5, 3, block_ngram=2)
        greedy = greedy_search(step_fn, state, tokens, END, 5)
        sampled = sample(step_fn, state, tokens, END, 5, top_p=0.9, seed=generator)
        return beams, scores, greedy, sampled

    if compiled:  # the batch size unknown until run
        vector = tf.TensorSpec([None], tf.int32)
        decode = tf.function(decode, input_signature=[vector, vector])
    tokens, state = start(0)
    beams, scores, greedy, sampled = decode(tokens, state["step"])
    assert [tuple(x.shape) for x in (beams, scores, greedy, sampled)] == [
        (0, 5),
        (0,),
        (0, 5),
        (0, 5),
    ]
