import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from recurrent.baselines import dialogue
from recurrent.baselines.dialogue import most_frequent_reply, tfidf_retrieval

CONTEXTS = [
    "what is your favourite food ?",
    "do you have any pets at home ?",
    "where did you go on holiday last summer ?",
    "how was the weather today ?",
    "what music do you listen to ?",
]
RESPONSES = [
    "pizza , definitely .",
    "two cats and a dog .",
    "we went to spain .",
    "sunny and warm .",
    "mostly jazz .",
]


def test_retrieval_answers_with_the_reply_to_the_closest_context():
    queries = [
        "Do you have pets?",
        "what music are you into",
        "favourite food?",
        "the weather was awful today",
    ]
    assert tfidf_retrieval(CONTEXTS, RESPONSES, queries) == [
        "two cats and a dog .",
        "mostly jazz .",
        "pizza , definitely .",
        "sunny and warm .",
    ]


def test_ties_go_to_the_earlier_context_and_unknown_queries_to_the_commonest_reply():
    contexts = ["hello there", "good morning", "hello there", "bye now", "bye now"]
    responses = ["hi !", "morning .", "hey .", "see you .", "see  you ."]
    replies = tfidf_retrieval(contexts, responses, ["Hello there!", "", "qwerty"])
    assert replies == ["hi !", "see you .", "see you ."]


def test_vectorizer_options_are_passed_on():
    with pytest.raises(ValueError, match="empty vocabulary"):
        TfidfVectorizer(stop_words="english").fit(["the of and"])
    # Only stop words in every context: every query gets the commonest reply.
    replies = tfidf_retrieval(
        ["the of and", "and the"], ["a", "b"], ["the"], stop_words="english"
    )
    assert replies == ["a"]
    with pytest.raises(ValueError, match="ngram_range"):
        tfidf_retrieval(["a b"], ["x"], ["a"], ngram_range=(2, 1))


def test_chunked_search_matches_a_dense_search(monkeypatch):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    contexts = [" ".join(rng.choice(words, rng.integers(0, 5))) for _ in range(300)]
    contexts += contexts[:100]  # exact duplicates: ties
    queries = [" ".join(rng.choice(words, rng.integers(0, 4))) for _ in range(200)]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    train = vectorizer.fit_transform(contexts)
    dense = (vectorizer.transform(queries) @ train.T).toarray()
    expected = np.where(dense.max(1) > 0, dense.argmax(1), -1)
    monkeypatch.setattr(dialogue, "_PAIRS_PER_CHUNK", 7 * len(contexts))
    found = dialogue.nearest(vectorizer.transform(queries), train.T.tocsr())
    assert (expected == -1).any() and (found == expected).all()


def test_retrieval_refuses_mismatched_training_data():
    with pytest.raises(ValueError, match="2 training contexts for 1 responses"):
        tfidf_retrieval(["a b", "c d"], ["x"], ["a"])
    with pytest.raises(ValueError, match="no training responses"):
        tfidf_retrieval([], [], ["a"])


def test_most_frequent_reply_compares_case_and_spacing_aside():
    responses = ["Okay.", "I don't know.", "i don't  know.", "okay.", "I don't know."]
    assert most_frequent_reply(responses, 3) == ["I don't know."] * 3
    assert most_frequent_reply(["b", "a", "a ", "B"], 1) == ["b"]  # tie: first seen
    assert most_frequent_reply(responses, 0) == []
    with pytest.raises(ValueError, match="no training responses"):
        most_frequent_reply([], 1)
    with pytest.raises(ValueError, match="at least 0"):
        most_frequent_reply(["a"], -1)
