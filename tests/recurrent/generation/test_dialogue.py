"""Dialogue histories as tokens, and the reply generator's endpoints."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from recurrent.generation import Vocabulary
from recurrent.generation.dialogue import (
    MARKERS,
    SEPARATOR,
    ReplyGenerator,
    history_tokens,
    spaced_histories,
)
from recurrent.models.encoders import TurnEncoder
from recurrent.models.seq2seq import Seq2Seq

SPECIALS = {"start": "[START]", "end": "[END]", **MARKERS}


def strings(ragged) -> list[list[str]]:
    return [[token.decode() for token in row] for row in ragged.to_list()]


def test_the_last_turns_are_kept_with_alternating_speakers():
    history = SEPARATOR.join(["hello", "hi, who are you?", "  ", "a bot. and you?"])
    tokens, spaced = history_tokens([history], max_turns=2, max_turn_tokens=10)
    assert strings(tokens) == [
        ["<bot>", "hi", ",", "who", "are", "you", "?"]
        + ["<user>", "a", "bot", ".", "and", "you", "?"]
    ]
    assert spaced.to_list()[0][:3] == [True, False, False]
    tokens, _ = history_tokens([history], max_turns=5, max_turn_tokens=10)
    assert strings(tokens)[0][:2] == ["<user>", "hello"]  # three turns back


def test_each_turn_keeps_its_last_tokens_and_blank_histories_give_nothing():
    tokens, _ = history_tokens(["one two three four", "", "\n \n"], 3, 2)
    assert strings(tokens) == [["<user>", "three", "four"], [], []]


def test_spaced_histories_match_the_tokens():
    histories = ["a b\nc", "d"]
    assert spaced_histories(histories, 2, 5) == ["<bot> a b <user> c", "<user> d"]


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    vocabulary = Vocabulary(["hello", "there", "bye", "."], SPECIALS)
    markers = [vocabulary.id(name) for name in MARKERS]
    encoder = TurnEncoder(vocabulary.size, 4, 6, marker_ids=markers, max_turns=2)
    model = Seq2Seq(
        encoder, vocabulary.size, embedding_dim=4, units=6, share_embeddings=True
    )
    model.build({"source": (None, None), "target_in": (None, None)})
    decoding = {"algorithm": "beam", "max_length": 5, "beam_size": 2}
    return ReplyGenerator(model, vocabulary, decoding, 2, 8, max_reply=4)


def test_score_is_the_teacher_forced_log_likelihood_of_the_reply(generator):
    pairs = tf.constant([["hello there\nbye", "hello ."], ["bye", "there"]])
    outputs = generator.score(pairs)
    vocabulary = generator.target
    source = vocabulary.ids(tf.constant(["<bot> hello there <user> bye", "<user> bye"]))
    start, end = vocabulary.id("start"), vocabulary.id("end")
    hello, there, dot = (vocabulary.tokens.index(w) for w in ("hello", "there", "."))
    targets = [[hello, dot, end], [there, end, 0]]
    shifted = [[start, hello, dot], [start, there, end]]
    log_probs, _ = generator.model.teacher_forced(source, tf.constant(shifted))
    expected = [
        sum(float(log_probs[row, step, token]) for step, token in enumerate(t) if token)
        for row, t in enumerate(targets)
    ]
    np.testing.assert_allclose(outputs["log_likelihood"], expected, rtol=1e-5)
    assert outputs["tokens"].numpy().tolist() == [3, 2]
    assert outputs["reply"].shape == (2,)


def test_replies_never_hold_markers_or_the_unknown_token(generator):
    outputs = generator.attention(tf.constant(["hello\nthere", "", "bye bye bye"]))
    words = {w.decode() for row in outputs["output_tokens"].numpy() for w in row}
    assert not words & {"<user>", "<bot>", "[UNK]"}
    assert outputs["reply"].numpy()[1] == b""  # a blank history: no reply
    tokens = [t.decode() for t in outputs["source_tokens"].numpy()[0] if t]
    assert tokens == ["<bot>", "hello", "<user>", "there"]
    assert outputs["weights"].shape[2] == outputs["source_tokens"].shape[1]


def test_sampling_runs_inside_a_traced_function(generator):
    sampling = ReplyGenerator(
        generator.model,
        generator.target,
        {"algorithm": "sample", "max_length": 5, "top_p": 0.9, "seed": 3},
        2,
        8,
        max_reply=4,
    )
    traced = tf.function(sampling.generate, input_signature=sampling.signature)
    replies = traced(tf.constant(["hello\nthere", "bye"]))["reply"].numpy()
    assert replies.shape == (2,)
    again = traced(tf.constant(["hello\nthere", "bye"]))["reply"].numpy()
    assert replies.dtype == again.dtype  # a second call draws again, no new variable
