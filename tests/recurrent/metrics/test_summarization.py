import numpy as np
import pytest

from recurrent.metrics.summarization import (
    MEASURES,
    bootstrap_interval,
    generation_statistics,
    novel_ngrams,
    repeated_trigrams,
    rouge_per_document,
    rouge_scores,
)


def test_identical_summaries_score_100_and_unrelated_ones_0():
    references = ["The cat sat on the mat.\nIt purred.", "Rain fell all day."]
    perfect = rouge_scores(references, references)
    for measure in MEASURES:
        assert perfect[measure] == pytest.approx(100)
        assert perfect[f"{measure}_low"] == pytest.approx(100)
    unrelated = rouge_scores(["zebras gallop", "quantum flux"], references)
    assert unrelated["rouge1"] == 0 and unrelated["rouge2_high"] == 0


def test_stemming_matches_word_forms_and_lsum_reads_sentences():
    scores = rouge_per_document(["the cats were running"], ["the cat was running"])
    assert scores["rouge1"][0] == pytest.approx(75.0)  # cats ~ cat; were != was
    # The same words, sentences in the other order: Lsum matches each sentence.
    swapped = rouge_per_document(
        ["the market fell sharply\nrain fell in london"],
        ["rain fell in london\nthe market fell sharply"],
    )
    assert swapped["rougeLsum"][0] == pytest.approx(100.0)
    assert swapped["rougeL"][0] < 100.0


def test_the_interval_holds_the_mean_and_narrows_with_more_documents():
    rng = np.random.default_rng(0)
    small, large = rng.normal(30, 10, 20), rng.normal(30, 10, 2000)
    low, high = bootstrap_interval(small, seed=1)
    assert low < small.mean() < high
    wide = high - low
    low, high = bootstrap_interval(large, seed=1)
    assert high - low < wide / 5
    assert bootstrap_interval(small, seed=1) == bootstrap_interval(small, seed=1)


def test_a_count_mismatch_is_refused():
    with pytest.raises(ValueError, match="2 summaries for 1 references"):
        rouge_per_document(["a", "b"], ["a"])


def test_sentence_f1_pools_chosen_and_marked_sentences_over_documents():
    from recurrent.metrics.summarization import sentence_f1

    scores = sentence_f1([[0, 2], [1]], [[1, 0, 0], [0, 1, 1]])
    # 2 hits of 3 chosen, of 3 marked.
    assert scores["sentence_precision"] == pytest.approx(200 / 3)
    assert scores["sentence_recall"] == pytest.approx(200 / 3)
    assert scores["sentence_f1"] == pytest.approx(200 / 3)
    assert sentence_f1([[]], [[0, 0]])["sentence_f1"] == 0.0


def test_the_rouge_table_prints_each_system_with_its_intervals():
    from recurrent.metrics.summarization import rouge_scores, rouge_table

    scores = rouge_scores(["the cat sat", "a dog"], ["the cat sat", "a dog ran"])
    table = rouge_table({"model": scores, "lead1": scores})
    lines = table.splitlines()
    assert lines[0].split() == ["system", "rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert lines[1].startswith("model") and f"{scores['rouge2']:.2f} [" in lines[1]


def test_the_paired_difference_counts_the_documents_that_decide_it():
    from recurrent.metrics.summarization import paired_difference

    better = np.array([10.0, 20.0, 30.0, 40.0])
    worse = np.array([5.0, 20.0, 25.0, 45.0])
    result = paired_difference(better, worse)
    assert result["difference"] == pytest.approx(1.25)  # (5 + 0 + 5 - 5) / 4
    assert result["difference_low"] <= 1.25 <= result["difference_high"]
    assert result["documents_first_higher"] == 2
    assert result["documents_second_higher"] == 1
    # A constant gain has no spread.
    steady = paired_difference(better + 1, better)
    assert steady["difference_low"] == pytest.approx(1.0)
    assert steady["difference_high"] == pytest.approx(1.0)


def test_novel_ngrams_and_repeated_trigrams():
    sources = ["The cat sat on the mat.", "Rain fell."]
    copied = ["the cat sat", "rain fell"]
    assert (
        novel_ngrams(copied, sources, 1) == 0 and novel_ngrams(copied, sources, 2) == 0
    )
    # "cat ran": one of its two words and its one bigram are new.
    assert novel_ngrams(["cat ran"], ["the cat sat"], 1) == pytest.approx(50)
    assert novel_ngrams(["cat ran"], ["the cat sat"], 2) == pytest.approx(100)
    assert repeated_trigrams(["a b c a b c", "x y z"]) == pytest.approx(100 * 1 / 5)
    assert repeated_trigrams(["a b", ""]) == 0
    statistics = generation_statistics(["a b c a b c"], ["a b c"])
    assert statistics["mean_words"] == 6 and statistics[
        "novel_3grams"
    ] == pytest.approx(100 * 2 / 4)
