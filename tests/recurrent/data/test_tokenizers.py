import numpy as np
import tensorflow as tf

from recurrent.data.tokenizers import (
    OOV_ID,
    OOV_TOKEN,
    PAD_ID,
    char_vectorizer,
    fit_vocabulary,
    join_tokens,
    split_punctuation,
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
