import numpy as np

from recurrent.data.tokenizers import (
    OOV_ID,
    OOV_TOKEN,
    PAD_ID,
    char_vectorizer,
    fit_vocabulary,
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
