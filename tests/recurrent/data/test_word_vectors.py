import numpy as np
import pytest

from recurrent.data.word_vectors import read_word_vectors
from recurrent.errors import UserInputError

VOCABULARY = ["", "[UNK]", "the", "paris", "Rome", "zebra"]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_word2vec_text_file_with_header(tmp_path):
    path = _write(
        tmp_path / "vectors.txt",
        ["4 3", "the 1 2 3", "paris 4 5 6", "rome 7 8 9", "unused 0 0 1"],
    )
    vectors = read_word_vectors(path, VOCABULARY, 3, seed=0)
    assert vectors.found == 3 and vectors.words == 4
    np.testing.assert_array_equal(vectors.weights[0], 0)  # padding
    np.testing.assert_array_equal(vectors.weights[2], [1, 2, 3])
    np.testing.assert_array_equal(vectors.weights[3], [4, 5, 6])
    np.testing.assert_array_equal(vectors.weights[4], [7, 8, 9])  # by lower case
    assert np.abs(vectors.weights[5]).sum() > 0  # missing: drawn at random
    assert "3 of 4 vocabulary words (75.0%)" in vectors.summary(path)


def test_glove_file_without_header_and_exact_case_first(tmp_path):
    path = _write(tmp_path / "glove.txt", ["rome 0 0", "Rome 1 1", "zebra 2 2"])
    vectors = read_word_vectors(path, VOCABULARY, 2)
    np.testing.assert_array_equal(vectors.weights[4], [1, 1])
    np.testing.assert_array_equal(vectors.weights[5], [2, 2])
    assert vectors.found == 2


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["the 1 2 3 4"], "have 4 dimensions, the model 3; --set embedding_dim=4"),
        (["cat 1 2 3"], "none of the 4 vocabulary words"),
        (["the one two three"], "line 1: expected a word and numbers"),
    ],
)
def test_unusable_files_get_one_message(tmp_path, lines, message):
    path = _write(tmp_path / "vectors.txt", lines)
    with pytest.raises(UserInputError, match=message):
        read_word_vectors(path, VOCABULARY, 3)


def test_a_missing_file_names_the_setting(tmp_path):
    with pytest.raises(UserInputError, match="--set embeddings=PATH"):
        read_word_vectors(tmp_path / "nothing.txt", VOCABULARY, 3)
