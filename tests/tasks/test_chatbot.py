import dataclasses
import json

import keras
import numpy as np
import pytest

from pipelines.runner.train import in_memory_predictor
from recurrent.errors import UserInputError
from recurrent.generation.dialogue import SEPARATOR
from tasks.chatbot import TASK, Config

NAMES = [f"{a}{b}" for a in ("al", "bo", "ca", "di", "ed", "fi") for b in "xyzqr"]


def conversations(count: int, seed: int = 0):
    """Counting chats: the user says "and then ?" twice, and the right reply
    ("two" or "three") depends on the turn before it, so only a model that
    reads past the last turn answers both."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        opening = f"count with me , {rng.choice(NAMES)} !"
        yield [opening, "one", "and then ?", "two", "and then ?", "three"]


@pytest.fixture(scope="module")
def chats(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "chats.jsonl"
    lines = [json.dumps(turns) for turns in conversations(300)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def train(chats, **settings):
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(
        Config().tiny(),
        epochs=3,
        max_batches=0,
        batch_size=16,
        units=32,
        embedding_dim=32,
        learning_rate=1e-2,
        test_examples=0,
        decoding="beam",
        **settings,
    )
    prepared = TASK.prepare(config, chats)
    model = TASK.build_model(config, prepared)
    model.fit(prepared.train, epochs=config.epochs, verbose=0, shuffle=False)
    return config, prepared, model


@pytest.fixture(scope="module")
def trained(chats):
    return train(chats)


def counting_accuracy(prepared, model) -> tuple[float, float, int]:
    """The model's accuracy on the validation replies "two" and "three", the
    most frequent reply's, and how many there are."""
    validation = prepared.splits["validation"]
    asked = validation[validation["response"].isin(["two", "three"])]
    histories = [SEPARATOR.join(turns) for turns in asked["context"]]
    replies = in_memory_predictor(TASK, model, prepared)(histories)["reply"]
    answers = [reply.decode() for reply in replies]
    right = np.mean([a == r for a, r in zip(answers, asked["response"], strict=True)])
    frequency = asked["response"].value_counts(normalize=True).max()
    return float(right), float(frequency), len(asked)


def test_histories_become_marked_turns_and_the_vocabulary_has_the_markers(trained):
    _, prepared, _ = trained
    vocabulary = prepared.assets["vocabulary"]
    assert vocabulary.tokens[2:6] == ["[START]", "[END]", "<user>", "<bot>"]
    inputs, target_out, _ = next(iter(prepared.validation))
    source = inputs["source"].numpy()
    assert set(source[:, 0]) <= {vocabulary.id("user"), vocabulary.id("bot")}
    assert np.all(inputs["target_in"].numpy()[:, 0] == vocabulary.id("start"))


def test_a_tiny_model_uses_the_turns_before_the_last(trained, chats):
    """The last turn is "and then ?" for both "two" and "three": the most
    frequent reply and the single-turn ablation are right about half the
    time, the model that reads three turns every time."""
    _, prepared, model = trained
    accuracy, frequency, count = counting_accuracy(prepared, model)
    assert count >= 30 and frequency < 0.65
    assert accuracy >= 0.95
    _, single, single_model = train(chats, context_turns=1)
    single_accuracy, _, _ = counting_accuracy(single, single_model)
    assert single_accuracy < 0.7


def test_evaluation_scores_the_model_and_the_baselines(trained):
    config, prepared, model = trained
    score = in_memory_predictor(TASK, model, prepared, TASK.evaluation_endpoint)
    evaluation = TASK.evaluate(score, prepared, config)
    metrics = evaluation.metrics
    assert 1 <= metrics["perplexity"] < 3  # the chats are nearly deterministic
    assert metrics["test_examples"] == len(prepared.splits["test"])
    assert set(evaluation.baselines) == {"tfidf", "most_frequent"}
    assert evaluation.baselines["most_frequent"]["distinct2"] < metrics["distinct2"]
    assert "perplexity" in evaluation.report and "tfidf" in evaluation.report


def test_inherited_vocabulary_is_used_instead_of_a_new_one(trained, chats, tmp_path):
    _, prepared, _ = trained
    other = tmp_path / "other.jsonl"
    other.write_text(
        "\n".join(json.dumps([f"zebra {i}", f"giraffe {i}", "ok"]) for i in range(200))
    )
    config = Config().tiny()
    again = TASK.prepare(config, str(other), inherited=prepared.assets)
    assert again.assets["vocabulary"] is prepared.assets["vocabulary"]
    fresh = TASK.prepare(config, str(other))
    assert "zebra" in fresh.assets["vocabulary"].tokens


def test_a_set_with_an_empty_split_is_refused(tmp_path):
    path = tmp_path / "one.tsv"
    path.write_text("hello\thi\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="no (validation|test) examples"):
        TASK.prepare(Config().tiny(), str(path))


def test_predict_takes_the_turns_of_one_conversation(tmp_path):
    file = tmp_path / "turns.txt"
    file.write_text("how are you?\n\nfine  thanks\n", encoding="utf-8")
    assert TASK.read_inputs(["hello"], str(file)) == [
        SEPARATOR.join(["hello", "how are you?", "fine thanks"])
    ]
    with pytest.raises(UserInputError, match="nothing to reply to"):
        TASK.read_inputs([" "], None)


@pytest.mark.parametrize(
    "setting", [{"context_turns": 0}, {"units": 7}, {"top_p": 0.0}, {"decoding": "x"}]
)
def test_bad_settings_are_refused(setting):
    with pytest.raises(UserInputError):
        Config(**setting)
