import numpy as np
import pytest

from recurrent.metrics.summarization import (
    MEASURES,
    bootstrap_interval,
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
