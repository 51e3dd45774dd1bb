"""Atomic spans travel as numbered stand-ins and come back as the source's own
text; unknown words are filled from the most attended source token."""

import tensorflow as tf

from recurrent.generation.placeholders import (
    mask,
    mask_pairs,
    replace_unknown,
    unmask,
)
from recurrent.metrics.generation import placeholder_preservation

SOURCE = [["Copy", "%s", "to", "%1", "at", "http://x.org", "(", "3", ")"], ["Hi"]]


def _strings(tensor):
    return [[t.decode() for t in row] for row in tensor.numpy()]


def test_each_kind_is_numbered_by_its_order_in_the_source():
    tokens = tf.ragged.constant(SOURCE).to_tensor("")
    assert _strings(mask(tokens)) == [
        ["Copy", "⟨PH1⟩", "to", "⟨PH2⟩", "at", "⟨URL1⟩", "(", "⟨NUM1⟩", ")"],
        ["Hi", "", "", "", "", "", "", "", ""],
    ]


def test_training_targets_share_the_source_stand_ins_by_equal_text():
    sources, targets = mask_pairs(
        ["Move %1 to %2 (%s, %s), see http://x.org", "Files: 12"],
        ["Mover a %2 desde %1 (%s, %s), ver http://y.org", "Archivos: 12 de 13"],
    )
    assert sources == [
        "Move ⟨PH1⟩ to ⟨PH2⟩ ( ⟨PH3⟩ , ⟨PH4⟩ ) , see ⟨URL1⟩",
        "Files : ⟨NUM1⟩",
    ]
    # reordered placeholders keep their numbers; spans the source lacks stay
    assert targets == [
        "Mover a ⟨PH2⟩ desde ⟨PH1⟩ ( ⟨PH3⟩ , ⟨PH4⟩ ) , ver http://y.org",
        "Archivos : ⟨NUM1⟩ de 13",
    ]


def test_stand_ins_get_the_source_text_back_and_unknown_words_the_attended_one():
    source = tf.ragged.constant(SOURCE).to_tensor("")
    masked = mask(source)
    words = tf.constant([["Copiar", "⟨PH1⟩", "en", "⟨URL1⟩", "⟨PH9⟩", "[UNK]"]] * 2)
    restored = unmask(words, source, masked)
    assert _strings(restored) == [
        ["Copiar", "%s", "en", "http://x.org", "", "[UNK]"],
        ["Copiar", "", "en", "", "", "[UNK]"],
    ]
    weights = tf.one_hot([[1, 1, 1, 1, 1, 3], [0, 0, 0, 0, 0, 0]], 9)
    weights *= tf.constant([[1.0], [0.0]])[:, :, None]  # no attention in row 2
    replaced = replace_unknown(restored, weights, source)
    assert _strings(replaced)[0][-1] == "%1"
    assert _strings(replaced)[1][-1] == "[UNK]"
    empty = tf.zeros([2, 0], tf.string)
    assert _strings(unmask(words, empty, empty))[0][1] == ""
    assert _strings(replace_unknown(words, tf.zeros([2, 6, 0]), empty))[0][5] == "[UNK]"


def test_placeholder_preservation_counts_sources_with_placeholders():
    sources = ["Open %s in {0}", "Hello", "%(n)d of %(m)d", "Go to http://a.org/%20x"]
    outputs = ["Abrir {0} en %s", "Hola", "%(n)d de % (m)d", "Ir"]
    assert placeholder_preservation(sources, outputs) == {
        "placeholder_preservation": 50.0,
        "placeholder_pairs": 2,
    }
    assert placeholder_preservation(["Hello"], ["Hola"]) == {}
