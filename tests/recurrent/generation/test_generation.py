import keras
import numpy as np
import pytest
import tensorflow as tf

from recurrent.generation import (
    TextGenerator,
    Vocabulary,
    bucket_boundaries,
    compile_for_teacher_forcing,
    short_pairs,
    texts_dataset,
)
from recurrent.generation.report import examples, markdown_table
from recurrent.models import token_seq2seq

SPECIALS = {"start": "<s>", "end": "</s>", "separator": "<sep>"}
SOURCES = ["a b c.", "b c a!", "c a b.", "a a b?", "b b c.", "c c a!"] * 6
TARGETS = ["x y z.", "y z x!", "z x y.", "x x y?", "y y z.", "z z x!"] * 6


def test_vocabulary_specials_come_after_padding_and_unknown():
    vocabulary = Vocabulary.fit(["a b a, c?", "a b"], 8, SPECIALS)
    assert vocabulary.tokens[:5] == ["", "[UNK]", "<s>", "</s>", "<sep>"]
    assert vocabulary.tokens[5:7] == ["a", "b"]
    assert vocabulary.size == 8 == len(vocabulary.tokens)
    ids = {name: vocabulary.id(name) for name in ["padding", "unknown", *SPECIALS]}
    assert ids == {"padding": 0, "unknown": 1, "start": 2, "end": 3, "separator": 4}
    assert vocabulary.token("end") == "</s>"
    encoded = vocabulary.ids(tf.constant(["a zzz", "b"])).numpy()
    np.testing.assert_array_equal(encoded, [[5, 1], [6, 0]])
    assert vocabulary.strings(encoded).numpy().tolist()[1] == [b"b", b""]
    restored = Vocabulary.from_config(vocabulary.get_config())
    assert restored.tokens == vocabulary.tokens
    with pytest.raises(ValueError, match="reserved"):
        Vocabulary(["a"], {"padding": "<pad>"})
    with pytest.raises(KeyError, match="separator"):
        Vocabulary(["a"], {"start": "<s>"}).id("separator")


def test_batches_are_bucketed_by_length_and_teacher_forced():
    assert bucket_boundaries(np.array([3, 17, 9])) == [8, 16]
    assert bucket_boundaries(np.array([3, 7])) == []
    assert bucket_boundaries(np.array([], "int64")) == []
    source = Vocabulary.fit(["a b"], 10)
    target = Vocabulary.fit(["x y"], 10, SPECIALS)
    long, short = "a " * 12, "a"
    dataset = texts_dataset(
        [long, short, long, short], ["x", "y y", "x", "y"], source, target, 4
    )
    batches = list(dataset)
    assert len(batches) == dataset.cardinality().numpy() == 2  # a bucket each
    widths = sorted(int(inputs["source"].shape[1]) for inputs, _, _ in batches)
    assert widths == [1, 12]
    for inputs, target_out, weights in batches:
        target_in = inputs["target_in"].numpy()
        assert np.all(target_in[:, 0] == 2)
        lengths = (target_out.numpy() > 0).sum(axis=1)
        assert np.all(target_out.numpy()[np.arange(len(lengths)), lengths - 1] == 3)
        np.testing.assert_array_equal(weights.numpy(), target_out.numpy() > 0)


def test_short_pairs_drops_long_and_blank_pairs():
    import pandas as pd

    frame = pd.DataFrame({"s": ["a b", " ", "a b c d", "a"], "t": ["x", "y", "z", ""]})
    kept, dropped = short_pairs(frame, ("s", "t"), 3)
    assert kept["s"].tolist() == ["a b"] and dropped == 3


def test_reports_are_readable():
    columns = {"source": ["a", "b"], "output": ["x|y", "z"]}
    assert examples(columns, 1) == "source: a\noutput: x|y"
    assert markdown_table(columns).splitlines()[2] == "| a | x/y |"


@pytest.fixture(scope="module")
def trained():
    """A tiny model that learns to copy-map a 3-word language."""
    keras.utils.set_random_seed(1)
    source = Vocabulary.fit(SOURCES, 20)
    target = Vocabulary.fit(TARGETS, 20, SPECIALS)
    dataset = texts_dataset(SOURCES, TARGETS, source, target, 6, shuffle=True, seed=1)
    model = token_seq2seq(source.size, target.size, embedding_dim=16, units=16)
    compile_for_teacher_forcing(model, keras.optimizers.Adam(0.02))
    model.fit(dataset, epochs=40, verbose=0, shuffle=False)
    return model, source, target


@pytest.mark.parametrize("algorithm", ["beam", "greedy"])
def test_serving_functions_generate_strings_with_any_algorithm(trained, algorithm):
    model, source, target = trained
    options = {"beam_size": 3, "alpha": 0.6} if algorithm == "beam" else {}
    generator = TextGenerator(
        model,
        source,
        target,
        {"algorithm": algorithm, "max_length": 8, **options},
        output="reply",
    )
    endpoints = generator.endpoints("generate", "attention")
    # Traced as the runner traces endpoints (pipelines.runner.export).
    generate, attention = (
        tf.function(endpoints[name][0], generator.signature, autograph=False)
        for name in ("generate", "attention")
    )
    texts = ["a b c.", "", "c a b."]
    outputs = generate(tf.constant(texts))
    assert outputs["reply"].numpy().tolist() == [b"x y z.", b"", b"z x y."]
    scores = outputs["score"].numpy()
    assert scores[1] == 0 and np.all(scores[[0, 2]] < 0)
    detailed = attention(tf.constant(texts))
    assert detailed["reply"].numpy().tolist() == outputs["reply"].numpy().tolist()
    assert detailed["source_tokens"].numpy()[0].tolist() == [b"a", b"b", b"c", b"."]
    assert detailed["output_tokens"].numpy()[0][:5].tolist() == [
        b"x",
        b"y",
        b"z",
        b".",
        b"</s>",
    ]
    weights = detailed["weights"].numpy()
    assert weights.shape == (3, 8, 4)
    np.testing.assert_allclose(weights[0, :5].sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[0, 5:] == 0) and np.all(weights[1] == 0)
    empty = generate(tf.constant([], tf.string))
    assert empty["reply"].shape == (0,) and empty["score"].shape == (0,)
    empty = attention(tf.constant([], tf.string))
    assert empty["weights"].shape == (0, 8, 0)
