import numpy as np
import pytest
import tensorflow as tf

from recurrent.data.tokenizers import (
    OOV_ID,
    OOV_TOKEN,
    PAD_ID,
    char_vectorizer,
    fit_vocabulary,
    join_tokens,
    split_punctuation,
    split_tokens,
    word_vectorizer,
)


def test_word_vectorizer_pads_with_zero_marks_unknown_words_and_truncates():
    vectorizer = fit_vocabulary(
        word_vectorizer(10, 4), ["The cat sat.", "the cat ran", "THE dog"]
    )
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[PAD_ID] == "" and vocabulary[OOV_ID] == OOV_TOKEN
    assert vocabulary[2:4] == ["the", "cat"]  # most frequent first
    ids = np.array(vectorizer(["the cat", "the zebra sat on the mat"]))
    assert ids.shape == (2, 4)
    assert ids[0].tolist() == [2, 3, PAD_ID, PAD_ID]
    assert ids[1][1] == OOV_ID


def test_char_vectorizer_splits_characters():
    vectorizer = fit_vocabulary(char_vectorizer(20, None), ["abca"])
    assert np.array(vectorizer(["ab"])).tolist()[0] == [
        vectorizer.get_vocabulary().index("a"),
        vectorizer.get_vocabulary().index("b"),
    ]


def test_punctuation_is_split_off_and_joined_back():
    texts = tf.constant(["¿Dónde está?  Aquí, en (Madrid).", "Yahweh's word!"])
    split = [t.decode() for t in split_punctuation(texts).numpy()]
    assert split == ["¿ Dónde está ? Aquí , en ( Madrid ) .", "Yahweh ' s word !"]
    tokens = tf.strings.split(split_punctuation(texts)).to_tensor("")
    joined = [t.decode() for t in join_tokens(tokens).numpy()]
    assert joined[0] == "¿Dónde está? Aquí, en (Madrid)."


@pytest.mark.parametrize(
    "text, spans",
    [
        ("Open %s (%1$d)", ["Open", "%s", "(", "%1$d", ")"]),
        ("%(name)s: {0} or {count:>3} of %.2f%%", ["{count:>3}", "of", "%.2f", "%%"]),
        ("Set $HOME, ${PATH}, %APPDATA% and %1.", ["%APPDATA%", "and", "%1", "."]),
        (
            "<b>%d</b> &amp; %{count} {{name}}",
            ["<b>", "%d", "</b>", "&amp;", "%{count}"],
        ),
        ("%(name)s: {0} or {{name}}", ["%(name)s", ":", "{0}", "or", "{{name}}"]),
        ("See https://example.org/a?b=1&c=2.", ["https://example.org/a?b=1&c=2", "."]),
        ("Mail john.doe+x@mail.example.com.", ["john.doe+x@mail.example.com", "."]),
        (
            "Copy /usr/bin/x, ~/.bashrc or C:\\Temp\\a.txt",
            ["~/.bashrc", "or", "C:\\Temp\\a.txt"],
        ),
        (
            "Run ./configure or ../b and/or file.txt",
            ["../b", "and", "/", "or", "file.txt"],
        ),
        ("3.14, 1,000 and 10:30 at 50% (not mp3 or 3rd)", ["3.14", ",", "1,000"]),
        ("3.14, 1,000 and 10:30 at 50% (not mp3 or 3rd)", ["10:30", "at", "50%", "("]),
        ("3.14, 1,000 and 10:30 at 50% (not mp3 or 3rd)", ["mp3", "or", "3rd", ")"]),
    ],
)
def test_atomic_spans_stay_whole_tokens(text, spans):
    split = split_punctuation(tf.constant([text])).numpy()[0].decode().split()
    position = split.index(spans[0])
    assert split[position : position + len(spans)] == spans, split


ROUND_TRIP = [
    "Open %s (%1$d) at http://x.org/a?b=1.",
    "Error: %(name)s not found in {0} or {name:>10}; see $HOME and ${PATH}.",
    "Mail john.doe@example.com, ( %1 ) 50% off, 3.14 and 1,000 files.",
    "Copy /usr/bin/x to ~/bin/ or C:\\x\\y and/or ./configure.",
    "<b>%d</b> files &amp; more... file.txt e.g. mp3 3rd 10:30",
    'He said "Hello, world" and left.',
    "%%d %APPDATA% %s%s %-5d %.2f %lu %@ %{count} {{name}}",
    "¿Dónde está? Aquí, en (Madrid).",
    "Yahweh's word!",
]


def test_a_text_joins_back_to_itself_with_its_own_spacing():
    tokens, spaced = split_tokens(tf.constant(ROUND_TRIP))
    joined = join_tokens(
        tokens.to_tensor(""), tokens.to_tensor(""), spaced.to_tensor(False)
    )
    assert [t.decode() for t in joined.numpy()] == ROUND_TRIP
    assert split_tokens(tf.constant(["a  (b"]))[1].to_list() == [[False, True, False]]


def test_joining_follows_written_conventions_without_a_source():
    tokens = tf.strings.split(split_punctuation(tf.constant(ROUND_TRIP))).to_tensor("")
    joined = [t.decode() for t in join_tokens(tokens).numpy()]
    assert joined[0] == "Open %s (%1$d) at http://x.org/a?b=1."
    assert joined[2].startswith(
        "Mail john.doe@example.com, (%1) 50% off, 3.14 and 1,000"
    )
    assert joined[5:] == [
        'He said "Hello, world" and left.',
        "%% d %APPDATA% %s %s %-5d %.2f %lu %@ %{count} {{name}}",
        "¿Dónde está? Aquí, en (Madrid).",
        "Yahweh's word!",
    ]
    # "" tokens are skipped; a row of none gives ""; an empty batch, no rows
    assert join_tokens(
        tf.constant([["a", "", ","], ["", "", ""]])
    ).numpy().tolist() == [
        b"a,",
        b"",
    ]
    assert join_tokens(tf.zeros([0, 3], tf.string)).shape == (0,)


def test_splitting_twice_changes_nothing():
    once = split_punctuation(tf.constant(ROUND_TRIP))
    np.testing.assert_array_equal(split_punctuation(once).numpy(), once.numpy())
