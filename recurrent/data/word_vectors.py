"""Pretrained word vectors from a local text file (word2vec or GloVe format).

Both formats hold one word per line followed by its vector's numbers, separated
by spaces; word2vec's text format (Mikolov et al. 2013) starts with a header line
`COUNT DIMENSIONS`, GloVe's (Pennington et al. 2014) has none. Binary word2vec
files are not read: convert them with gensim's `save_word2vec_format(binary=False)`.
"""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recurrent.errors import UserInputError


@dataclasses.dataclass
class EmbeddingMatrix:
    """Initial weights of an `Embedding` over a vocabulary.

    Attributes:
        weights: `[len(vocabulary), dimensions]` float32; row 0 (padding) is
            zero, words missing from the file are drawn at random with the
            spread of the vectors found.
        found: how many vocabulary words (padding and the unknown token left
            out) had a vector in the file.
        words: how many vocabulary words there were to look up.
    """

    weights: np.ndarray
    found: int
    words: int

    def summary(self, path) -> str:
        share = self.found / max(self.words, 1)
        return (
            f"word vectors: {self.found} of {self.words} vocabulary words "
            f"({share:.1%}) found in {path}, {self.weights.shape[1]} dimensions"
        )


def _numbers(fields: list[str], path, line_number: int) -> np.ndarray:
    try:
        return np.asarray(fields, dtype="float32")
    except ValueError:
        raise UserInputError(
            f"{path}, line {line_number}: expected a word and numbers; is it a "
            "word2vec or GloVe text file? (binary word2vec files must be "
            "converted to text)"
        ) from None


def read_word_vectors(
    path: str | Path,
    vocabulary: Sequence[str],
    dimensions: int,
    seed: int = 0,
    specials: int = 2,
) -> EmbeddingMatrix:
    """Looks up every vocabulary word in a word-vector text file.

    A word is matched exactly first, then by its lower-cased form (GloVe's
    vocabularies are lower-case). Only the vectors of vocabulary words are
    kept, so a file of millions of words costs one pass and little memory.

    Args:
        path: the word2vec or GloVe text file (UTF-8).
        vocabulary: the words by id; the first `specials` (padding, unknown)
            are not looked up.
        dimensions: the embedding size the model was configured with; the file's
            vectors must have it.
        seed: seeds the random rows of words the file lacks.

    Raises:
        UserInputError: the file is missing, unreadable, of another dimension,
            or shares no word with the vocabulary.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(
            f"no word-vector file at {path}; pass a word2vec or GloVe text file "
            "with --set embeddings=PATH"
        )
    wanted: dict[str, list[int]] = {}
    for index, word in enumerate(vocabulary):
        if index >= specials:
            wanted.setdefault(word, []).append(index)
            wanted.setdefault(word.lower(), [])
    rows = np.zeros((len(vocabulary), dimensions), "float32")
    exact, lowered = set(), {}
    with path.open(encoding="utf-8", errors="replace") as stream:
        for line_number, line in enumerate(stream, 1):
            fields = line.rstrip().split(" ")
            if line_number == 1 and len(fields) == 2 and fields[0].isdigit():
                continue  # the word2vec header
            if len(fields) < 2 or fields[0] not in wanted:
                continue
            vector = _numbers(fields[1:], path, line_number)
            if vector.size != dimensions:
                raise UserInputError(
                    f"the vectors in {path} have {vector.size} dimensions, the "
                    f"model {dimensions}; --set embedding_dim={vector.size}"
                )
            word = fields[0]
            for index in wanted[word]:
                rows[index] = vector
                exact.add(index)
            lowered.setdefault(word, vector)
    for index, word in enumerate(vocabulary):
        if index >= specials and index not in exact and word.lower() in lowered:
            rows[index] = lowered[word.lower()]
            exact.add(index)
    words = max(len(vocabulary) - specials, 0)
    if not exact:
        raise UserInputError(
            f"none of the {words} vocabulary words is in {path}; is it a word-vector "
            "file for this language?"
        )
    found = np.array(sorted(exact))
    spread = float(rows[found].std())
    missing = np.setdiff1d(np.arange(specials, len(vocabulary)), found)
    rng = np.random.default_rng(seed)
    rows[missing] = rng.normal(0.0, spread, (len(missing), dimensions))
    rows[:1] = 0.0
    return EmbeddingMatrix(rows, len(found), words)
