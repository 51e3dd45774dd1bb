import pytest

from recurrent.metrics.generation import bleu_chrf


def test_identical_text_scores_100_and_unrelated_text_scores_near_0():
    references = ["the cat sat on the mat .", "a dog barked at the moon ."]
    perfect = bleu_chrf(references, references)
    assert perfect == {
        "bleu": pytest.approx(100.0),
        "chrf": pytest.approx(100.0),
        "length_ratio": 1.0,
    }
    unrelated = bleu_chrf(["xyz qqq", "zzz www"], references)
    assert unrelated["bleu"] < 1 and unrelated["chrf"] < 10


def test_partial_overlap_scores_between():
    scores = bleu_chrf(["the cat sat on a mat ."], ["the cat sat on the mat ."])
    assert 20 < scores["bleu"] < 100 and 50 < scores["chrf"] < 100


def test_counts_must_match():
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        bleu_chrf(["a", "b"], ["a"])


def test_length_ratio_counts_hypothesis_against_reference_tokens():
    scores = bleu_chrf(["the cat", "a dog ."], ["the cat sat .", "a dog barked ."])
    assert scores["length_ratio"] == pytest.approx(5 / 8)
