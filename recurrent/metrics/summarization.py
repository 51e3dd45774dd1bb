"""ROUGE of summaries (the `rouge-score` package, Porter stemming on), each
measure with a bootstrap 95% interval over documents.

References:
    Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004.
    Efron and Tibshirani, "An Introduction to the Bootstrap", 1993 (percentile
    intervals).
"""

import re
from collections.abc import Sequence

import numpy as np
from rouge_score import rouge_scorer

MEASURES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
WORD = re.compile(r"\w+")


def rouge_per_document(
    summaries: Sequence[str], references: Sequence[str]
) -> dict[str, np.ndarray]:
    """F1 of each measure for each document, on a 0-100 scale.

    Sentences are separated by newlines: ROUGE-Lsum takes the union of the
    longest common subsequences sentence by sentence, as the summarization
    literature reports it; ROUGE-L treats each summary as one sequence.
    """
    if len(summaries) != len(references):
        raise ValueError(f"{len(summaries)} summaries for {len(references)} references")
    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)
    rows = [
        scorer.score(reference, summary)
        for summary, reference in zip(summaries, references, strict=True)
    ]
    return {
        measure: np.array([100 * row[measure].fmeasure for row in rows])
        for measure in MEASURES
    }


def bootstrap_interval(
    values: np.ndarray, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values`."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def rouge_scores(
    summaries: Sequence[str],
    references: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Mean ROUGE-1, -2, -L and -Lsum F1 (0-100) and their 95% intervals:
    `{"rouge1": mean, "rouge1_low": ..., "rouge1_high": ..., ...}`.

    The same resampled documents serve every measure (one seed), so intervals
    of two systems scored with the same seed are comparable.
    """
    return summarized(rouge_per_document(summaries, references), resamples, seed)


def summarized(
    per_document: dict[str, np.ndarray], resamples: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Means and 95% intervals of per-document scores, as `rouge_scores` gives them."""
    scores = {}
    for measure, values in per_document.items():
        low, high = bootstrap_interval(values, resamples, seed)
        mean = float(values.mean()) if values.size else float("nan")
        scores |= {measure: mean, f"{measure}_low": low, f"{measure}_high": high}
    return scores


def paired_difference(
    first: np.ndarray, second: np.ndarray, resamples: int = 1000, seed: int = 0
) -> dict[str, float]:
    """How much `first` beats `second` on the same documents: the mean
    difference with its paired bootstrap 95% interval (documents resampled
    together), and the documents where each is higher (the ones that
    decide the difference)."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    difference = first - second
    low, high = bootstrap_interval(difference, resamples, seed)
    return {
        "difference": float(difference.mean()) if difference.size else float("nan"),
        "difference_low": low,
        "difference_high": high,
        "documents_first_higher": int((difference > 0).sum()),
        "documents_second_higher": int((difference < 0).sum()),
    }


def sentence_f1(
    chosen: Sequence[Sequence[int]], labels: Sequence[Sequence[int]]
) -> dict[str, float]:
    """Precision, recall and F1 (0-100) of chosen sentence indices against
    0/1 labels per sentence, pooled over all documents (micro average)."""
    hits = picked = wanted = 0
    for indices, row in zip(chosen, labels, strict=True):
        marked = {i for i, label in enumerate(row) if label}
        indices = set(indices)
        hits += len(indices & marked)
        picked += len(indices)
        wanted += len(marked)
    precision = 100 * hits / picked if picked else 0.0
    recall = 100 * hits / wanted if wanted else 0.0
    total = precision + recall
    return {
        "sentence_precision": precision,
        "sentence_recall": recall,
        "sentence_f1": 2 * precision * recall / total if total else 0.0,
    }


def rouge_table(results: dict[str, dict[str, float]]) -> str:
    """A text table of ROUGE F1 with 95% intervals: one row per system."""
    header = f"{'system':<12}" + "".join(f"{m:>22}" for m in MEASURES)
    lines = [header]
    for system, scores in results.items():
        cells = [
            f"{scores[m]:6.2f} [{scores[m + '_low']:5.2f}, {scores[m + '_high']:5.2f}]"
            for m in MEASURES
        ]
        lines.append(f"{system:<12}" + "".join(f"{cell:>22}" for cell in cells))
    return "\n".join(lines)


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _ngram_list(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def novel_ngrams(summaries: Sequence[str], sources: Sequence[str], n: int) -> float:
    """The share (0-100) of the summaries' n-grams that their source lacks,
    pooled over all summaries: how abstractive they are (See et al. 2017,
    figure 6). Words are lower-cased runs of letters and digits."""
    novel = total = 0
    for summary, source in zip(summaries, sources, strict=True):
        grams = _ngram_list(_words(summary), n)
        known = set(_ngram_list(_words(source), n))
        novel += sum(gram not in known for gram in grams)
        total += len(grams)
    return 100 * novel / total if total else 0.0


def repeated_trigrams(summaries: Sequence[str]) -> float:
    """The share (0-100) of the summaries' trigrams that repeat a trigram
    earlier in the same summary, pooled: the repetition coverage removes."""
    repeated = total = 0
    for summary in summaries:
        grams = _ngram_list(_words(summary), 3)
        repeated += len(grams) - len(set(grams))
        total += len(grams)
    return 100 * repeated / total if total else 0.0


def generation_statistics(
    summaries: Sequence[str], sources: Sequence[str]
) -> dict[str, float]:
    """Novel 1-, 2- and 3-grams, the repeated-trigram rate and the mean
    length in words of generated summaries."""
    lengths = [len(_words(summary)) for summary in summaries]
    return {
        **{f"novel_{n}grams": novel_ngrams(summaries, sources, n) for n in (1, 2, 3)},
        "repeated_trigrams": repeated_trigrams(summaries),
        "mean_words": float(np.mean(lengths)) if lengths else 0.0,
    }
