import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from recurrent.decoding import (
    beam_search,
    coverage_penalty,
    greedy_search,
    length_penalty,
    sample,
)
from recurrent.decoding.common import (
    block_repeated_ngrams,
    repetition_penalty_of,
    top_k,
)
from recurrent.decoding.sampling import filter_logits

START, END, A, B, C = 1, 2, 3, 4, 5
VOCABULARY = 6
LOW = -1e4


def table_step(table):
    """A step function whose log-probs depend only on (step, previous token)."""
    table = np.asarray(table, "float32")
    flat = ops.convert_to_tensor(table.reshape(-1, VOCABULARY))

    def step_fn(tokens, state, step):
        log_probs = ops.take(flat, step * VOCABULARY + tokens, axis=0)
        return log_probs, {"step": state["step"] + 1}

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
    result = beam_search(
        table_step(GARDEN_PATH), state, tokens, END, 3, beam_size=2, alpha=0
    )
    best, score = result["tokens"], result["scores"]
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
    result = beam_search(
        table_step(SHORT_OR_LONG), state, tokens, END, 4, beam_size=2, alpha=alpha
    )
    best, score = result["tokens"], result["scores"]
    assert np.array(best)[0].tolist() == expected
    length = 2 if expected[1] == END else 4
    raw = -1.0 if length == 2 else -1.2
    assert float(score[0]) == pytest.approx(
        raw / float(length_penalty(length, alpha)), abs=1e-5
    )


def test_finished_sequences_stay_finished_at_no_cost():
    tokens, state = start(2)
    result = beam_search(
        table_step(SHORT_OR_LONG), state, tokens, END, 4, beam_size=3, alpha=0.0
    )
    best, score = result["tokens"], result["scores"]
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
    result = beam_search(
        table_step(EARLY_ENDINGS), state, tokens, END, 6, beam_size=2, alpha=2.0
    )
    best, score = result["tokens"], result["scores"]
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
    plain = beam_search(table_step(repeat), state, tokens, END, 6, beam_size=1)
    plain = plain["tokens"]
    assert np.array(plain)[0].tolist() == [A] * 6
    blocked = beam_search(
        table_step(repeat), state, tokens, END, 6, beam_size=1, block_ngram=2
    )["tokens"]
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


def counting(step_fn):
    """`step_fn` that records the `step` it is given (eager runs only)."""
    calls = []

    def counted(tokens, state, step):
        calls.append(int(step))
        return step_fn(tokens, state, step)

    return counted, calls


def test_every_algorithm_passes_the_index_of_the_token_produced():
    tokens, state = start(2)
    step_fn, calls = counting(table_step(_random_table(4)))
    beam_search(step_fn, state, tokens, END, 5, beam_size=2, early_exit=False)
    greedy_search(step_fn, state, tokens, END, 5, min_length=5)
    sample(step_fn, state, tokens, END, 5, seed=1, min_length=5)
    assert calls == [0, 1, 2, 3, 4] * 3


EAGER_TO_END = table(
    8,
    {
        (step, previous): {END: -0.05, A: -3.0, B: -3.5, C: -4.0}
        for step in range(8)
        for previous in (START, A, B, C)
    },
)


def first_end(row):
    return list(row).index(END) if END in list(row) else len(row)


@pytest.mark.parametrize("min_length", [0, 1, 3])
def test_no_algorithm_ends_a_sequence_before_min_length(min_length):
    tokens, state = start(16)
    step_fn = table_step(EAGER_TO_END)
    beams = beam_search(step_fn, state, tokens, END, 8, 3, min_length=min_length)
    nbest = np.array(
        beam_search(step_fn, state, tokens, END, 8, 3, n_best=3, min_length=min_length)[
            "nbest_tokens"
        ]
    )
    greedy = np.array(greedy_search(step_fn, state, tokens, END, 8, min_length))
    sampled = np.array(
        sample(step_fn, state, tokens, END, 8, seed=2, min_length=min_length)
    )
    assert [first_end(row) for row in np.array(beams["tokens"])] == [min_length] * 16
    assert [first_end(row) for row in greedy] == [min_length] * 16
    for row in [*nbest.reshape(-1, 8), *sampled]:
        assert min_length <= first_end(row) < 8, row
    assert sum(first_end(row) == min_length for row in sampled) > 8


def test_n_best_is_sorted_and_its_first_is_the_best():
    values = _random_table(5, steps=6)
    tokens = np.array([START, A, B], "int32")
    state = {"step": np.zeros((3,), "int32")}
    one = beam_search(table_step(values), state, tokens, END, 6, 4, alpha=0.6)
    four = beam_search(table_step(values), state, tokens, END, 6, 4, n_best=4)
    assert tuple(one["nbest_tokens"].shape) == (3, 1, 6)
    assert tuple(four["nbest_tokens"].shape) == (3, 4, 6)
    assert tuple(four["nbest_scores"].shape) == (3, 4)
    np.testing.assert_array_equal(one["nbest_tokens"][:, 0], one["tokens"])
    np.testing.assert_array_equal(one["nbest_scores"][:, 0], one["scores"])
    np.testing.assert_array_equal(four["nbest_tokens"][:, 0], one["tokens"])
    scores = np.array(four["nbest_scores"])
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert np.all(scores > -1e8)  # four real hypotheses per row
    for row in np.array(four["nbest_tokens"]):
        assert len({tuple(sequence) for sequence in row}) == 4


def test_n_best_larger_than_the_beam_is_refused():
    tokens, state = start()
    with pytest.raises(ValueError, match="n_best"):
        beam_search(table_step(GARDEN_PATH), state, tokens, END, 3, 2, n_best=3)


def test_early_exit_stops_sooner_with_the_same_result():
    tokens, state = start(2)
    step_fn, calls = counting(table_step(EAGER_TO_END))
    early = beam_search(step_fn, state, tokens, END, 8, beam_size=2, min_length=1)
    assert len(calls) < 8
    step_fn, calls = counting(table_step(EAGER_TO_END))
    full = beam_search(
        step_fn, state, tokens, END, 8, beam_size=2, min_length=1, early_exit=False
    )
    assert len(calls) == 8
    for key in full:
        np.testing.assert_array_equal(early[key], full[key])


@pytest.mark.parametrize("seed", range(12))
def test_early_exit_gives_what_the_full_search_gives(seed):
    rng = np.random.default_rng(seed)
    values = _random_table(seed, steps=7)
    values[:, :, END] += rng.uniform(0, 3)  # end early, sometimes
    tokens = rng.integers(0, VOCABULARY, size=3).astype("int32")
    state = {"step": np.zeros((3,), "int32")}
    options = {
        "beam_size": 3,
        "alpha": float(rng.choice([0.0, 0.6, 2.0])),
        "n_best": 3,
        "block_ngram": int(rng.choice([0, 2])),
    }
    early = beam_search(table_step(values), state, tokens, END, 7, **options)
    full = beam_search(
        table_step(values), state, tokens, END, 7, early_exit=False, **options
    )
    for key in full:
        np.testing.assert_array_equal(early[key], full[key])


SOURCE = 3  # two words and a padding position that is never attended


def attending_step(values, attention):
    """`table_step` whose state also holds the attention weights it used."""
    step_fn = table_step(values)
    flat = ops.convert_to_tensor(np.asarray(attention, "float32").reshape(-1, SOURCE))

    def attend(tokens, state, step):
        log_probs, _ = step_fn(tokens, {"step": state["step"]}, step)
        weights = ops.take(flat, step * VOCABULARY + tokens, axis=0)
        return log_probs, {"step": state["step"] + 1, "attention": weights}

    return attend


def attention_start(batch=1):
    tokens, state = start(batch)
    return tokens, {**state, "attention": np.zeros((batch, SOURCE), "float32")}


# A (0.5) and B (0.45) both end next (0.9); A attends word 0 twice, B each once.
TWICE_OR_ONCE = table(
    4,
    {
        (0, START): {A: np.log(0.5), B: np.log(0.45)},
        (1, A): {END: np.log(0.9)},
        (1, B): {END: np.log(0.9)},
    },
)
WEIGHTS = np.zeros((4, VOCABULARY, SOURCE), "float32")
WEIGHTS[0, START] = [0.9, 0.1, 0.0]
WEIGHTS[1, A] = [0.9, 0.1, 0.0]
WEIGHTS[1, B] = [0.1, 0.9, 0.0]
WEIGHTS[2:, :] = [0.5, 0.5, 0.0]


def test_the_coverage_penalty_prefers_the_hypothesis_that_covers_the_source():
    tokens, state = attention_start()
    step_fn = attending_step(TWICE_OR_ONCE, WEIGHTS)
    options = {"beam_size": 2, "alpha": 0.0, "attention_key": "attention"}
    plain = beam_search(step_fn, state, tokens, END, 4, **options)
    covered = beam_search(
        step_fn, state, tokens, END, 4, coverage_penalty=1.0, n_best=2, **options
    )
    assert np.array(plain["tokens"]).tolist() == [[A, END, END, END]]
    assert float(plain["scores"][0]) == pytest.approx(np.log(0.45), abs=1e-5)
    assert np.array(covered["tokens"]).tolist() == [[B, END, END, END]]
    assert float(covered["scores"][0]) == pytest.approx(np.log(0.405), abs=1e-5)
    # A covers word 1 with 0.2 in all: log(0.2); the padding adds nothing
    assert np.array(covered["nbest_tokens"])[0, 1].tolist() == [A, END, END, END]
    assert float(covered["nbest_scores"][0, 1]) == pytest.approx(
        np.log(0.45) + np.log(0.2), abs=1e-5
    )


def test_the_coverage_penalty_skips_positions_never_attended():
    coverage = np.array([[1.8, 0.2, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    penalties = np.array(coverage_penalty(coverage.astype("float32"), 0.5))
    np.testing.assert_allclose(penalties, [0.5 * np.log(0.2), 0.0, 0.0], atol=1e-6)


def test_the_coverage_penalty_needs_the_attention():
    tokens, state = start()
    with pytest.raises(ValueError, match="attention_key"):
        beam_search(
            table_step(GARDEN_PATH), state, tokens, END, 3, coverage_penalty=0.2
        )


def test_the_attention_of_the_best_beam_is_returned_and_zero_after_its_end():
    tokens, state = attention_start(2)
    step_fn = attending_step(TWICE_OR_ONCE, WEIGHTS)
    result = beam_search(
        step_fn, state, tokens, END, 4, 2, alpha=0.0, attention_key="attention"
    )
    assert np.array(result["tokens"]).tolist() == [[A, END, END, END]] * 2
    expected = [[0.9, 0.1, 0.0], [0.9, 0.1, 0.0], [0.0] * 3, [0.0] * 3]
    np.testing.assert_allclose(result["attention"], [expected] * 2)
    # an unfinished best beam has attention at every step
    longer = beam_search(
        step_fn, state, tokens, END, 2, 2, alpha=0.0, attention_key="attention"
    )
    assert np.array(longer["tokens"]).tolist() == [[A, END]] * 2
    ongoing = beam_search(
        step_fn,
        state,
        tokens,
        END,
        3,
        2,
        alpha=0.0,
        attention_key="attention",
        min_length=3,
    )
    assert first_end(np.array(ongoing["tokens"])[0]) == 3
    np.testing.assert_allclose(ongoing["attention"][0, 2], [0.5, 0.5, 0.0])


def repeat_last_step(vocabulary):
    """Repeating the previous token has probability 0.5; END is never likely."""
    others = np.log(0.5 / (vocabulary - 2))

    def step_fn(tokens, state, step):
        repeat = ops.one_hot(tokens, vocabulary) > 0
        log_probs = ops.where(repeat, np.log(0.5), others)
        never_end = ops.arange(vocabulary) == END
        return ops.where(never_end[None, :], LOW, log_probs), state

    return step_fn


def repeats(rows):
    return float(np.mean(rows[:, 1:] == rows[:, :-1]))


def test_the_repetition_penalty_lowers_repeats():
    tokens = np.full((256,), A, "int32")
    state = {"step": np.zeros((256,), "int32")}
    plain = np.array(sample(repeat_last_step(50), state, tokens, END, 10, seed=3))
    penalised = np.array(
        sample(
            repeat_last_step(50), state, tokens, END, 10, seed=3, repetition_penalty=5.0
        )
    )
    assert 0.4 < repeats(plain) < 0.6
    assert repeats(penalised) < 0.15
    assert np.all(penalised != END) and np.all(plain != END)


def test_the_repetition_penalty_follows_ctrl_on_logits():
    scores = np.array([[2.0, -2.0, 2.0, -2.0, 0.0]], "float32")
    seen = np.array([[True, True, False, False, True]])
    np.testing.assert_allclose(
        repetition_penalty_of(scores, seen, 2.0), [[1.0, -4.0, 2.0, -2.0, 0.0]]
    )


def test_bad_sampling_settings_are_refused():
    tokens, state = start()
    with pytest.raises(ValueError, match="repetition_penalty"):
        sample(table_step(GARDEN_PATH), state, tokens, END, 3, repetition_penalty=0)


def _blocked_by_hand(tokens, step, size, vocabulary):
    banned = np.zeros((len(tokens), vocabulary), bool)
    for row, sequence in enumerate(tokens):
        written = list(sequence[:step])
        suffix = written[len(written) - size + 1 :]
        for begin in range(len(written) - size + 1):
            if written[begin : begin + size - 1] == suffix:
                banned[row, written[begin + size - 1]] = True
    return banned


@pytest.mark.parametrize("size", [2, 3])
def test_ngram_blocking_bans_what_a_plain_loop_bans(size):
    rng = np.random.default_rng(size)
    tokens = rng.integers(0, 3, size=(20, 9)).astype("int32")
    log_probs = np.zeros((20, 4), "float32")
    for step in range(10):
        blocked = np.array(block_repeated_ngrams(log_probs, tokens, step, size)) < -1
        expected = _blocked_by_hand(tokens, step, size, 4) if step >= size else 0
        np.testing.assert_array_equal(blocked, np.zeros_like(blocked) | expected)


def test_greedy_stops_when_every_row_has_ended():
    tokens, state = start(3)
    step_fn, calls = counting(table_step(EAGER_TO_END))
    greedy = np.array(greedy_search(step_fn, state, tokens, END, 8, min_length=2))
    assert calls == [0, 1, 2]
    assert greedy.tolist() == [[A, A, END] + [END] * 5] * 3


def _everything(step_fn, tokens, state, generator):
    beams = beam_search(
        step_fn,
        state,
        tokens,
        END,
        5,
        beam_size=3,
        block_ngram=2,
        min_length=1,
        coverage_penalty=0.3,
        n_best=2,
        attention_key="attention",
    )
    greedy = greedy_search(step_fn, state, tokens, END, 5, min_length=2)
    sampled = sample(
        step_fn,
        state,
        tokens,
        END,
        5,
        top_k=1,
        repetition_penalty=1.5,
        seed=generator,
        min_length=1,
    )
    return beams, greedy, sampled


def random_attention_step(seed):
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(SOURCE), size=(5, VOCABULARY)).astype("float32")
    return attending_step(_random_table(seed), weights)


def test_compiled_decoding_matches_eager():
    step_fn = random_attention_step(2)
    tokens = np.array([START, A], "int32")
    state = {"step": np.zeros((2,), "int32"), "attention": np.zeros((2, SOURCE))}
    state["attention"] = state["attention"].astype("float32")

    generator = keras.random.SeedGenerator(1)  # made outside the tf.function

    @tf.function
    def compiled(tokens, state):
        return _everything(step_fn, tokens, state, generator)

    eager = _everything(step_fn, tokens, state, keras.random.SeedGenerator(1))
    traced = compiled(tf.constant(tokens), tf.nest.map_structure(tf.constant, state))
    for key in eager[0]:
        np.testing.assert_allclose(traced[0][key], eager[0][key], atol=1e-5)
    np.testing.assert_array_equal(traced[1], eager[1])
    np.testing.assert_array_equal(traced[2], eager[2])


@pytest.mark.parametrize("compiled", [False, True])
def test_every_algorithm_decodes_an_empty_batch(compiled):
    step_fn = random_attention_step(3)
    generator = keras.random.SeedGenerator(5)

    def decode(tokens, steps, attention):
        state = {"step": steps, "attention": attention}
        beams, greedy, sampled = _everything(step_fn, tokens, state, generator)
        full = beam_search(step_fn, state, tokens, END, 5, 3, early_exit=False)
        return beams, full, greedy, sampled

    if compiled:  # the batch size unknown until run
        vector = tf.TensorSpec([None], tf.int32)
        matrix = tf.TensorSpec([None, SOURCE], tf.float32)
        decode = tf.function(decode, input_signature=[vector, vector, matrix])
    tokens, state = attention_start(0)
    beams, full, greedy, sampled = decode(tokens, state["step"], state["attention"])
    shapes = {key: tuple(value.shape) for key, value in beams.items()}
    assert shapes == {
        "tokens": (0, 5),
        "scores": (0,),
        "nbest_tokens": (0, 2, 5),
        "nbest_scores": (0, 2),
        "attention": (0, 5, SOURCE),
    }
    assert tuple(full["tokens"].shape) == (0, 5)
    assert tuple(greedy.shape) == tuple(sampled.shape) == (0, 5)


@pytest.mark.parametrize("seed", range(8))
def test_the_blocked_top_k_equals_a_plain_top_k_ties_included(seed):
    rng = np.random.default_rng(seed)
    rows, width, k = int(rng.integers(0, 5)), int(rng.integers(64, 3000)), 8
    scores = rng.integers(-3, 3, size=(rows, width)).astype("float32")
    if seed % 2:
        scores = rng.normal(size=(rows, width)).astype("float32")
    if seed % 3 == 0:
        scores[scores < 0] = -np.inf
    values, indices = top_k(scores, k)
    expected_values, expected_indices = ops.top_k(scores, k)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(indices, expected_indices)
    traced = tf.function(lambda x: top_k(x, k))(scores)
    np.testing.assert_array_equal(traced[1], expected_indices)
