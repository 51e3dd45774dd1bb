import math

import pytest

from recurrent.metrics.dialogue import (
    blandness,
    dialogue_table,
    distinct,
    paired_reply_difference,
    perplexity,
    reply_scores,
    reply_tokens,
)

REFERENCES = [
    "i am fine , thanks for asking .",
    "we went to the beach last weekend .",
    "my favourite food is pizza with olives .",
    "the train was late again this morning .",
    "i have two cats and a very old dog .",
    "she is reading a book about the ocean .",
]
PARTIAL = [
    "i am fine , thank you .",
    "we went to the park last week .",
    "my favourite food is pasta .",
    "the bus was late this morning .",
    "i have a cat and a dog .",
    "she is writing a book about the sea .",
]


def test_tokens_are_lower_cased_words_and_single_punctuation_marks():
    assert reply_tokens("Don't SHOUT!! ok?") == ["don't", "shout", "!", "!", "ok", "?"]
    assert reply_tokens("   ") == []


def test_distinct_n_on_a_hand_counted_example():
    replies = ["Hi there!", "hi there", "ok ok"]
    # Unigrams: hi there ! hi there ok ok = 7, of which 4 differ.
    assert distinct(replies, 1) == pytest.approx(100 * 4 / 7)
    # Bigrams: (hi there) (there !) (hi there) (ok ok) = 4, of which 3 differ.
    assert distinct(replies, 2) == pytest.approx(75.0)
    assert distinct(["one", ""], 2) == 0.0


def test_blandness_counts_replies_that_are_one_of_the_ten_commonest_stock_answers():
    variants = ["i  don't KNOW.", " I don't know. "]
    stock = variants + ["I don't know."] * 8
    unique = [f"reply number {i}" for i in range(10)]
    assert blandness(stock + unique) == 50.0
    assert blandness(unique + unique[:1]) == pytest.approx(100 * 2 / 11)
    assert blandness(unique) == 0.0
    # Twelve answers given twice each: only the ten commonest count.
    twice = [f"answer {i}" for i in range(12)] * 2
    assert blandness(twice) == pytest.approx(100 * 20 / 24)


def test_identical_replies_score_100_and_disjoint_ones_0():
    perfect = reply_scores(REFERENCES, REFERENCES, resamples=200)
    assert perfect["bleu2"] == pytest.approx(100.0)
    assert perfect["chrf"] == pytest.approx(100.0)
    assert perfect["bleu2_low"] == pytest.approx(100.0)
    assert perfect["bleu2_high"] == pytest.approx(100.0)
    disjoint = reply_scores(["xyzzy plugh"] * 6, REFERENCES, resamples=200)
    assert disjoint["bleu2"] == 0.0 and disjoint["bleu2_high"] == 0.0
    assert disjoint["blandness"] == 100.0
    assert disjoint["distinct1"] == pytest.approx(100 * 2 / 12)


def test_scores_are_case_insensitive_unless_asked():
    shouted = [reference.upper() for reference in REFERENCES]
    assert reply_scores(shouted, REFERENCES, resamples=0)["bleu2"] == pytest.approx(100)
    cased = reply_scores(shouted, REFERENCES, resamples=0, lowercase=False)
    assert cased["bleu2"] < 5


def test_intervals_hold_the_corpus_score_and_are_seeded():
    scores = reply_scores(PARTIAL, REFERENCES, resamples=300, seed=1)
    for measure in ("bleu2", "chrf"):
        low, high = scores[f"{measure}_low"], scores[f"{measure}_high"]
        assert low < scores[measure] < high
        assert low > 0 and high < 100
    assert 20 < scores["bleu2"] < 100
    assert reply_scores(PARTIAL, REFERENCES, resamples=300, seed=1) == scores
    other = reply_scores(PARTIAL, REFERENCES, resamples=300, seed=2)
    assert other["bleu2_low"] != scores["bleu2_low"]


def test_empty_replies_count_and_length_is_in_tokens():
    scores = reply_scores(["", "hello there !"], ["hi", "hello there"], resamples=0)
    assert scores["replies"] == 2
    assert scores["mean_length"] == 1.5
    assert math.isnan(scores["bleu2_low"])


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="2 replies for 1 references"):
        reply_scores(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no replies"):
        reply_scores([], [])
    with pytest.raises(ValueError, match="1 replies for 6 references"):
        paired_reply_difference(["a"], REFERENCES, REFERENCES)


def test_paired_difference_of_a_better_and_a_worse_system():
    result = paired_reply_difference(REFERENCES, PARTIAL, REFERENCES, resamples=300)
    for measure in ("bleu2", "chrf"):
        difference = result[f"{measure}_difference"]
        assert 0 < result[f"{measure}_difference_low"] < difference
        assert difference < result[f"{measure}_difference_high"] <= 100
        assert result[f"{measure}_resamples_first_higher"] == 100.0
    worse = paired_reply_difference(PARTIAL, REFERENCES, REFERENCES, resamples=300)
    assert worse["bleu2_difference"] == pytest.approx(-result["bleu2_difference"])
    same = paired_reply_difference(PARTIAL, PARTIAL, REFERENCES, resamples=50)
    assert same["chrf_difference"] == same["chrf_difference_high"] == 0.0


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(50.0)) == pytest.approx(50.0)
    assert perplexity(1e6) == math.inf
    assert math.isnan(perplexity(float("nan")))
    with pytest.raises(ValueError, match="never negative"):
        perplexity(-0.5)


def test_table_has_a_row_per_system_and_perplexity_only_when_given():
    model = reply_scores(PARTIAL, REFERENCES, resamples=50) | {"perplexity": 41.5}
    retrieval = reply_scores(REFERENCES[::-1], REFERENCES, resamples=50)
    table = dialogue_table({"hred": model, "tfidf_retrieval": retrieval})
    lines = table.splitlines()
    assert len(lines) == 3 and "perplexity" in lines[0] and "dist-2" in lines[0]
    assert lines[1].startswith("hred") and "41.50" in lines[1]
    for measure in ("bleu2", "chrf"):
        interval = f"[{model[measure + '_low']:.2f}, {model[measure + '_high']:.2f}]"
        assert f"{model[measure]:.2f} {interval}" in lines[1]
    assert lines[2].split()[:2] == ["tfidf_retrieval", "-"]
    assert "perplexity" not in dialogue_table({"tfidf_retrieval": retrieval})
