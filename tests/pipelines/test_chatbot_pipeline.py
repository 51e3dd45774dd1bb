"""End to end: the chatbot pipeline in a subprocess, its export replying to
histories in a process that cannot import the project, the chat over the
export with piped turns, and the samples and heat maps in TensorBoard through
TensorBoard's own reader."""

import json
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.pipelines.pipeline_process import (
    PROJECT,
    environment,
    run_pipeline,
    run_without_project,
)

TASK = "chatbot"
CLIENT = """
import json, sys
import tensorflow as tf

model = tf.saved_model.load(sys.argv[1])
histories = tf.constant(["hi there!\\nhello, how are you?", "", "what do you do?"])
replied = model.reply(histories)
attention = model.attention(histories)
scored = model.score(tf.constant([["hi\\nhello", "how are you ?"], ["", "yes"]]))
empty = model.reply(tf.constant([], tf.string))
print(json.dumps({
    "replies": [r.decode() for r in replied["reply"].numpy()],
    "attention_replies": [r.decode() for r in attention["reply"].numpy()],
    "tokens": [t.decode() for t in attention["source_tokens"].numpy()[0] if t],
    "weights": list(attention["weights"].shape),
    "log_likelihood": scored["log_likelihood"].numpy().tolist(),
    "scored_tokens": scored["tokens"].numpy().tolist(),
    "empty": list(empty["reply"].shape),
}))
"""


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    output = tmp_path_factory.mktemp("smoke")
    return output, run_pipeline(TASK, "--smoke", output=output, timeout=900)


def test_smoke_run_trains_evaluates_and_exports(smoke):
    output, result = smoke
    export = output / TASK / "1"
    metadata = json.loads((export / "metadata.json").read_text())
    assert metadata["data"] == "chitchat"
    metrics = metadata["metrics"]
    assert metrics["test_examples"] == 64 and metrics["perplexity"] > 1
    assert {"bleu2", "chrf", "distinct1", "distinct2", "blandness"} <= set(metrics)
    assert set(metadata["baselines"]) == {"tfidf", "most_frequent"}
    assert metadata["endpoints"] == ["attention", "reply", "score"]
    assert sorted(metadata["figures"]) == [f"attention_{i}.png" for i in range(3)]
    assert "| history | reference | reply |" in (export / "samples.md").read_text()
    assert "tfidf" in result.stdout and "perplexity" in result.stdout


def test_the_export_replies_where_the_project_cannot_be_imported(smoke, tmp_path):
    output, _ = smoke
    result = run_without_project(CLIENT, str(output / TASK / "1"), cwd=tmp_path)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # Replies are sampled: each call draws anew, so the endpoints agree on
    # which histories get a reply, not on its words.
    assert len(answer["replies"]) == len(answer["attention_replies"]) == 3
    assert answer["replies"][1] == answer["attention_replies"][1] == ""  # blank
    assert answer["replies"][0] and answer["attention_replies"][0]
    assert answer["tokens"][0] == "<bot>" and "<user>" in answer["tokens"]
    assert answer["weights"][0] == 3 and answer["weights"][2] == len(answer["tokens"])
    assert answer["log_likelihood"][0] < 0 and answer["scored_tokens"] == [5, 2]
    assert answer["empty"] == [0]


def test_chat_answers_three_piped_turns_with_the_export(smoke):
    output, _ = smoke
    chat = subprocess.run(
        [sys.executable, "-m", "pipelines.chatbot", "chat", "--output", str(output)],
        input="hi!\n\nhow are you?\n/history\nwhat do you do for fun?\n",
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert chat.returncode == 0, chat.stderr[-3000:]
    replies = [line for line in chat.stdout.splitlines() if line.startswith("bot:")]
    assert len(replies) == 3
    assert "1. you: hi!" in chat.stdout and "3. you: how are you?" in chat.stdout


def test_chat_without_an_export_says_what_to_do(tmp_path):
    chat = subprocess.run(
        [sys.executable, "-m", "pipelines.chatbot", "chat", "--output", str(tmp_path)],
        input="hi\n",
        cwd=PROJECT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert chat.returncode == 2
    assert "no export of chatbot" in chat.stderr and "Traceback" not in chat.stderr


def test_samples_and_attention_maps_are_logged_each_epoch(smoke):
    output, _ = smoke
    (run,) = (output / TASK / "runs").iterdir()
    events = EventAccumulator(str(run / "logs" / "text"), size_guidance={"tensors": 0})
    events.Reload()
    texts = events.Tensors("samples")
    assert [event.step for event in texts] == [0, 1]
    assert b"reference" in texts[-1].tensor_proto.string_val[0]
    images = EventAccumulator(
        str(run / "logs" / "images"), size_guidance={"tensors": 0}
    )
    images.Reload()
    assert {"attention_0", "attention_1", "attention_2"} <= set(
        images.Tags()["tensors"]
    )
