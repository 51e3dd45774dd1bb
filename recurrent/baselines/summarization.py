"""Extractive summaries from a document's sentences: selection by a sentence
count or a word budget, Lead-k, random-k, TextRank, and the greedy ROUGE
oracle that labels sentences for training and bounds what extraction can
reach.

Every function takes a document as its list of sentences and returns the
indices of the chosen sentences in document order.

References:
    Mihalcea and Tarau, "TextRank: Bringing Order into Texts", EMNLP 2004.
    Nallapati et al., "SummaRuNNer", AAAI 2017 (greedy oracle labels).
"""

from collections import Counter
from collections.abc import Sequence

import networkx as nx
import numpy as np
from rouge_score.tokenizers import DefaultTokenizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity


def select(
    scores: Sequence[float],
    sentences: Sequence[str],
    count: int | None = 3,
    words: int | None = None,
) -> list[int]:
    """The best-scored sentences, in document order: `count` of them, or as
    many as fit in `words` words (at least one), whichever is set.

    Raises:
        ValueError: neither or both of `count` and `words` set.
    """
    if (count is None) == (words is None):
        raise ValueError("select by a sentence count or a word budget, not both")
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    if count is not None:
        return sorted(ranked[:count])
    chosen, used = [], 0
    for index in ranked:
        length = len(sentences[index].split())
        if chosen and used + length > words:
            break
        chosen.append(index)
        used += length
    return sorted(chosen)


def lead(sentences: Sequence[str], count: int | None = 3, words: int | None = None):
    """The first sentences (Lead-k): news puts its gist first."""
    return select([-i for i in range(len(sentences))], sentences, count, words)


def random_sentences(
    sentences: Sequence[str],
    count: int | None = 3,
    words: int | None = None,
    seed: int = 0,
) -> list[int]:
    """Sentences chosen uniformly at random (with `seed`): the floor."""
    scores = np.random.default_rng(seed).random(len(sentences))
    return select(list(scores), sentences, count, words)


def textrank(
    sentences: Sequence[str], count: int | None = 3, words: int | None = None
) -> list[int]:
    """TextRank: PageRank over the graph of sentences weighted by the cosine
    similarity of their TF-IDF vectors (fitted on the document itself)."""
    if len(sentences) < 2:
        return list(range(len(sentences)))
    try:
        vectors = TfidfVectorizer().fit_transform(sentences)
    except ValueError:  # no word at all
        return lead(sentences, count, words)
    similarity = cosine_similarity(vectors)
    np.fill_diagonal(similarity, 0.0)
    graph = nx.from_numpy_array(similarity)
    ranks = nx.pagerank(graph, weight="weight", max_iter=200)
    return select([ranks[i] for i in range(len(sentences))], sentences, count, words)


_TOKENIZER = DefaultTokenizer(use_stemmer=True)


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(selected: Counter, reference: Counter) -> float:
    overlap = sum((selected & reference).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(selected.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


def sentence_rouge(sentences: Sequence[str], reference: str) -> list[float]:
    """ROUGE-1 F1 plus ROUGE-2 F1 (0-2) of each sentence alone against
    `reference`, tokenized as `greedy_oracle` does: a graded label per
    sentence, where the oracle gives 0 or 1."""
    wanted = [_ngrams(_TOKENIZER.tokenize(reference), n) for n in (1, 2)]
    scores = []
    for sentence in sentences:
        tokens = _TOKENIZER.tokenize(sentence)
        scores.append(sum(_f1(_ngrams(tokens, n), wanted[n - 1]) for n in (1, 2)))
    return scores


def greedy_oracle(
    sentences: Sequence[str], reference: str, max_sentences: int | None = None
) -> list[int]:
    """The greedy ROUGE oracle: add the sentence that most raises ROUGE-1 F1
    plus ROUGE-2 F1 of the selection against `reference`; stop when none
    raises it (or at `max_sentences`).

    Tokens are those of `rouge-score` (lower-cased, Porter-stemmed), each
    sentence tokenized once, so a document costs one pass per chosen sentence.
    """
    tokens = [_TOKENIZER.tokenize(sentence) for sentence in sentences]
    wanted = [_ngrams(_TOKENIZER.tokenize(reference), n) for n in (1, 2)]
    chosen: list[int] = []
    best = 0.0
    while max_sentences is None or len(chosen) < max_sentences:
        candidates = []
        for index in range(len(sentences)):
            if index in chosen:
                continue
            selection = [t for i in sorted([*chosen, index]) for t in tokens[i]]
            score = sum(_f1(_ngrams(selection, n), wanted[n - 1]) for n in (1, 2))
            candidates.append((score, -index))
        if not candidates:
            break
        score, negative_index = max(candidates)
        if score <= best:
            break
        best = score
        chosen.append(-negative_index)
    return sorted(chosen)
