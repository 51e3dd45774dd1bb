"""Chatbot baselines: TF-IDF retrieval (answer with the reply to the most
similar training context) and the most frequent training reply.

Reference:
    Lowe et al., "The Ubuntu Dialogue Corpus: A Large Dataset for Research in
    Unstructured Multi-Turn Dialogue Systems", SIGDIAL 2015 (TF-IDF retrieval
    as a dialogue baseline).
"""

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

# Similarities of at most this many query-context pairs are held at once.
_PAIRS_PER_CHUNK = 1_000_000


def most_frequent_reply(train_responses: Sequence[str], count: int) -> list[str]:
    """The most common training response, `count` times.

    Responses are compared lower-cased with whitespace runs made one space;
    the spelling returned is the commonest one of the winning response as
    written in the training data. Ties go to the response seen first.

    Raises:
        ValueError: no training response, or a negative count.
    """
    if not len(train_responses):
        raise ValueError("no training responses")
    if count < 0:
        raise ValueError(f"count must be at least 0, got {count}")
    spellings: dict[str, Counter] = defaultdict(Counter)
    for response in train_responses:
        spellings[" ".join(response.lower().split())][response] += 1
    best = max(spellings.values(), key=lambda forms: sum(forms.values()))
    return [best.most_common(1)[0][0]] * count


def tfidf_retrieval(
    train_contexts: Sequence[str],
    train_responses: Sequence[str],
    queries: Sequence[str],
    **vectorizer_options,
) -> list[str]:
    """For each query, the response of the training context whose TF-IDF
    vector is closest by cosine similarity.

    The vectorizer (scikit-learn's `TfidfVectorizer`, fitted on the training
    contexts) takes word unigrams and bigrams with sublinear tf, lower-cased;
    `vectorizer_options` override or add to those settings (e.g.
    `min_df=2`). A context is one string: join a dialogue's turns before.
    Ties go to the earlier training context; a query that shares no term
    with any context (empty, or only unknown words) gets the most frequent
    response (`most_frequent_reply`).

    Similarities are sparse products over chunks of queries, so no dense
    queries x contexts matrix is formed.

    Raises:
        ValueError: contexts and responses differ in number, or there are
            none.
    """
    if len(train_contexts) != len(train_responses):
        raise ValueError(
            f"{len(train_contexts)} training contexts for "
            f"{len(train_responses)} responses"
        )
    fallback = most_frequent_reply(train_responses, 1)[0]
    options = {"ngram_range": (1, 2), "sublinear_tf": True, "lowercase": True}
    vectorizer = TfidfVectorizer(**(options | vectorizer_options))
    try:
        contexts = vectorizer.fit_transform(train_contexts)
    except ValueError as error:
        if "empty vocabulary" not in str(error):  # a bad option, say
            raise
        return [fallback] * len(queries)  # no term in any context
    best = nearest(vectorizer.transform(queries), contexts.T.tocsr())
    return [fallback if row < 0 else train_responses[row] for row in best]


def nearest(queries, contexts_by_term) -> np.ndarray:
    """The index of the context with the largest dot product with each query
    row (the first on ties), -1 where none is positive.

    Args:
        queries: sparse (queries, terms) matrix of L2-normalised rows.
        contexts_by_term: sparse CSR (terms, contexts) matrix, the contexts'
            normalised vectors as columns.
    """
    count, size = queries.shape[0], contexts_by_term.shape[1]
    chunk = max(1, _PAIRS_PER_CHUNK // max(size, 1))
    best = np.full(count, -1, dtype=np.int64)
    for start in range(0, count, chunk):
        scores = (queries[start : start + chunk] @ contexts_by_term).tocsr()
        best[start : start + chunk] = _first_argmax(scores)
    return best


def _first_argmax(scores) -> np.ndarray:
    """Per row of a sparse CSR matrix with no negative entry, the smallest
    column holding the row's largest entry; -1 where the row has none above
    0. Column indices within a row need not be sorted."""
    result = np.full(scores.shape[0], -1, dtype=np.int64)
    pointers = scores.indptr
    for row in range(scores.shape[0]):
        values = scores.data[pointers[row] : pointers[row + 1]]
        if values.size and (largest := values.max()) > 0:
            columns = scores.indices[pointers[row] : pointers[row + 1]]
            result[row] = columns[values == largest].min()
    return result
