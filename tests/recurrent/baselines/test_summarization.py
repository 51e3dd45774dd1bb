import pytest

from recurrent.baselines.summarization import (
    greedy_oracle,
    lead,
    random_sentences,
    select,
    textrank,
)

DOCUMENT = [
    "The central bank raised interest rates by half a point on Tuesday.",
    "Shares in London fell after the bank's decision on rates.",
    "A local football club signed a new goalkeeper.",
    "Economists said the rates rise by the bank would slow lending.",
    "The weather stayed mild across the south.",
]


def test_selection_by_count_or_word_budget_keeps_document_order():
    scores = [0.1, 0.9, 0.5, 0.8, 0.0]
    assert select(scores, DOCUMENT, count=2) == [1, 3]
    # 11 + 11 words fit in 25, the third best (9 words) does not.
    assert select(scores, DOCUMENT, count=None, words=25) == [1, 3]
    # The best sentence is kept even when it alone exceeds the budget.
    assert select(scores, DOCUMENT, count=None, words=3) == [1]
    with pytest.raises(ValueError, match="not both"):
        select(scores, DOCUMENT, count=2, words=10)


def test_lead_and_random():
    assert lead(DOCUMENT, 3) == [0, 1, 2]
    assert lead(DOCUMENT[:2], 3) == [0, 1]
    chosen = random_sentences(DOCUMENT, 2, seed=3)
    assert len(chosen) == 2 and chosen == random_sentences(DOCUMENT, 2, seed=3)
    assert {tuple(random_sentences(DOCUMENT, 2, seed=s)) for s in range(10)} != {
        tuple(chosen)
    }


def test_textrank_prefers_the_sentences_the_others_echo():
    # Sentences 0, 1 and 3 share "bank" and "rates"; 2 and 4 share nothing.
    assert textrank(DOCUMENT, 3) == [0, 1, 3]
    assert lead(DOCUMENT, 3) != [0, 1, 3]
    assert textrank(["One sentence only."], 3) == [0]
    assert textrank(["...", "!!!"], 1) == [0]  # no words: falls back to lead


def test_the_greedy_oracle_finds_the_sentences_a_reference_was_written_from():
    reference = (
        "The central bank raised rates by half a point. "
        "Economists said the rise would slow lending."
    )
    assert greedy_oracle(DOCUMENT, reference) == [0, 3]
    assert greedy_oracle(DOCUMENT, reference, max_sentences=1) == [0]
    # Nothing in common: no sentence raises ROUGE, so none is chosen.
    assert greedy_oracle(DOCUMENT, "zebras gallop at dawn") == []
