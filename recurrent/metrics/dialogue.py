"""Scores of chatbot replies: BLEU-2 and chrF against the reference replies
(sacrebleu) with bootstrap 95% intervals, distinct-1/2, blandness, length, and
perplexity from a mean token loss.

Overlap with one reference reply says little about a reply's quality (many
replies fit a turn), so BLEU-2 and chrF sit beside measures of diversity:
distinct-n (how many different n-grams the replies use) and blandness (how
many replies are one of a few stock answers).

References:
    Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine
    Translation", ACL 2002.
    Popović, "chrF: character n-gram F-score for automatic MT evaluation",
    WMT 2015.
    Li et al., "A Diversity-Promoting Objective Function for Neural
    Conversation Models", NAACL 2016 (distinct-1, distinct-2).
    Koehn, "Statistical Significance Tests for Machine Translation
    Evaluation", EMNLP 2004 (bootstrap resampling of corpus BLEU).
"""

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sacrebleu.metrics import BLEU, CHRF

# A run of letters, digits or underscores, with an apostrophe inside it kept
# ("don't", "it's"); or any one other character that is not whitespace.
TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
BLAND_TOP = 10
_CHUNK = 100  # bootstrap resamples summed at once


def reply_tokens(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens: runs of letters and digits
    (an inner apostrophe kept: "don't" is one token), and each other
    non-space character alone ("wow!!" -> ["wow", "!", "!"])."""
    return TOKEN.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct(replies: Sequence[str], n: int) -> float:
    """Distinct-n (0-100): different n-grams over all n-grams of all replies
    (`reply_tokens`), pooled; 0 where the replies hold no n-gram.

    Reference:
        Li et al., "A Diversity-Promoting Objective Function for Neural
        Conversation Models", NAACL 2016.
    """
    grams = [gram for reply in replies for gram in _ngrams(reply_tokens(reply), n)]
    return 100 * len(set(grams)) / len(grams) if grams else 0.0


def _normalized(text: str) -> str:
    return " ".join(text.lower().split())


def blandness(replies: Sequence[str], top: int = BLAND_TOP) -> float:
    """The share (0-100) of replies that are one of the `top` most frequent
    replies, compared lower-cased with whitespace runs made one space.

    Only replies given more than once count as stock answers: 20 different
    replies have no bland one, where counting every one of a top ten would
    call half of them bland. Ties at the `top`-th place go to the reply seen
    first. An empty reply is a reply ("").
    """
    counts = Counter(_normalized(reply) for reply in replies)
    stock = [count for _, count in counts.most_common(top) if count > 1]
    return 100 * sum(stock) / len(replies) if replies else 0.0


def _check(replies: Sequence[str], references: Sequence[str]) -> None:
    if len(replies) != len(references):
        raise ValueError(f"{len(replies)} replies for {len(references)} references")
    if not len(replies):
        raise ValueError("no replies to score")


def _metrics(lowercase: bool) -> dict[str, BLEU | CHRF]:
    return {
        "bleu2": BLEU(max_ngram_order=2, lowercase=lowercase),
        "chrf": CHRF(lowercase=lowercase),
    }


def _statistics(metric, replies: Sequence[str], references: Sequence[str]):
    """Sufficient statistics of each reply (one row each), which sum to the
    corpus statistics: resampling replies only re-sums them."""
    rows = metric._extract_corpus_statistics(list(replies), [list(references)])
    return np.asarray(rows, dtype=np.float64)


def _score(metric, totals: np.ndarray) -> float:
    return float(metric._compute_score_from_stats([int(x) for x in totals]).score)


def _resampled_totals(statistics: list[np.ndarray], resamples: int, seed: int):
    """Yields, per chunk of bootstrap resamples (replies drawn with
    replacement, `seed` fixed), the summed statistics of every array in
    `statistics` over the same draws: shape (chunk, columns) each."""
    size = len(statistics[0])
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _CHUNK):
        chunk = min(_CHUNK, resamples - start)
        drawn = rng.integers(0, size, (chunk, size))
        drawn += np.arange(chunk)[:, None] * size
        counts = np.bincount(drawn.ravel(), minlength=chunk * size)
        counts = counts.reshape(chunk, size).astype(np.float64)
        yield [np.rint(counts @ rows) for rows in statistics]


def _percentiles(values: list[float], level: float) -> tuple[float, float]:
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def reply_scores(
    replies: Sequence[str],
    references: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
    lowercase: bool = True,
) -> dict[str, float]:
    """BLEU-2, chrF, distinct-1/2, blandness and mean length of replies, one
    reference reply each.

    BLEU-2 is sacrebleu's corpus BLEU up to bigrams (13a tokenization,
    exponential smoothing); chrF is sacrebleu's chrF2 (character 6-grams);
    both on a 0-100 scale, lower-cased unless `lowercase=False`. Their 95%
    intervals are percentile bootstrap intervals of the corpus score over
    `resamples` resamples of the replies (with replacement, `seed` fixed, the
    same draws for both). Distinct-n, blandness and length use
    `reply_tokens`. An empty reply counts, as an empty one.

    Returns:
        `{"bleu2", "bleu2_low", "bleu2_high", "chrf", "chrf_low",
        "chrf_high", "distinct1", "distinct2", "blandness", "mean_length",
        "replies"}`.

    Raises:
        ValueError: counts differ, or there is no reply.

    Example:
        >>> scores = reply_scores(["hi there !", "fine , thanks"],
        ...                       ["hi there !", "fine , thanks"], resamples=10)
        >>> round(scores["bleu2"]), scores["distinct1"]
        (100, 100.0)
    """
    _check(replies, references)
    metrics = _metrics(lowercase)
    statistics = [_statistics(m, replies, references) for m in metrics.values()]
    scores: dict[str, float] = {}
    draws: dict[str, list[float]] = {name: [] for name in metrics}
    for totals in _resampled_totals(statistics, resamples, seed):
        for (name, metric), chunk in zip(metrics.items(), totals, strict=True):
            draws[name] += [_score(metric, row) for row in chunk]
    for (name, metric), rows in zip(metrics.items(), statistics, strict=True):
        low, high = _percentiles(draws[name], 0.95) if resamples else (math.nan,) * 2
        point = _score(metric, rows.sum(0))
        scores |= {name: point, f"{name}_low": low, f"{name}_high": high}
    lengths = [len(reply_tokens(reply)) for reply in replies]
    return scores | {
        "distinct1": distinct(replies, 1),
        "distinct2": distinct(replies, 2),
        "blandness": blandness(replies),
        "mean_length": float(np.mean(lengths)),
        "replies": len(replies),
    }


def paired_reply_difference(
    first: Sequence[str],
    second: Sequence[str],
    references: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
    lowercase: bool = True,
) -> dict[str, float]:
    """How much system `first` beats `second` on the same references, in
    corpus BLEU-2 and chrF (as `reply_scores` computes them): each difference
    with its paired bootstrap 95% interval (the same replies resampled for
    both systems), and the share (0-100) of resamples where `first` scores
    higher.

    Returns:
        `{"bleu2_difference", "bleu2_difference_low", "bleu2_difference_high",
        "bleu2_resamples_first_higher"}` (the last a percentage) and the same
        four for chrF.

    Raises:
        ValueError: counts differ, or there is no reply.
    """
    _check(first, references)
    _check(second, references)
    metrics = _metrics(lowercase)
    statistics = [
        _statistics(metric, replies, references)
        for metric in metrics.values()
        for replies in (first, second)
    ]
    differences: dict[str, list[float]] = {name: [] for name in metrics}
    for totals in _resampled_totals(statistics, resamples, seed):
        for index, (name, metric) in enumerate(metrics.items()):
            ones, twos = totals[2 * index], totals[2 * index + 1]
            differences[name] += [
                _score(metric, one) - _score(metric, two)
                for one, two in zip(ones, twos, strict=True)
            ]
    scores: dict[str, float] = {}
    for index, (name, metric) in enumerate(metrics.items()):
        ones, twos = statistics[2 * index], statistics[2 * index + 1]
        point = _score(metric, ones.sum(0)) - _score(metric, twos.sum(0))
        drawn = differences[name]
        low, high = _percentiles(drawn, 0.95) if resamples else (math.nan,) * 2
        higher = 100 * float(np.mean(np.array(drawn) > 0)) if resamples else math.nan
        scores |= {
            f"{name}_difference": point,
            f"{name}_difference_low": low,
            f"{name}_difference_high": high,
            f"{name}_resamples_first_higher": higher,
        }
    return scores


def perplexity(mean_token_loss: float) -> float:
    """Perplexity, exp of the mean negative log-likelihood per token (in
    nats, as Keras' cross-entropy gives it); infinite where that overflows,
    NaN for a NaN loss.

    Raises:
        ValueError: a negative loss (no likelihood exceeds 1).
    """
    loss = float(mean_token_loss)
    if loss < 0:
        raise ValueError(f"a mean negative log-likelihood is never negative: {loss}")
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf


_COLUMNS = (
    ("distinct1", "dist-1"),
    ("distinct2", "dist-2"),
    ("blandness", "bland%"),
    ("mean_length", "length"),
)


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval_cell(scores: dict[str, float], measure: str) -> str:
    cell = _cell(scores.get(measure))
    if scores.get(f"{measure}_low") is not None:
        cell += f" [{scores[measure + '_low']:.2f}, {scores[measure + '_high']:.2f}]"
    return cell


def dialogue_table(results: dict[str, dict[str, float]]) -> str:
    """A text table of `reply_scores`: one row per system, BLEU-2 and chrF
    with their 95% intervals, and perplexity where any system has one ("-"
    where a system lacks a score)."""
    width = max(12, *(len(system) + 2 for system in results)) if results else 12
    has_perplexity = any(s.get("perplexity") is not None for s in results.values())
    header = f"{'system':<{width}}"
    header += f"{'perplexity':>12}" if has_perplexity else ""
    header += f"{'BLEU-2 [95% interval]':>24}{'chrF [95% interval]':>24}"
    lines = [header + "".join(f"{name:>9}" for _, name in _COLUMNS)]
    for system, scores in results.items():
        row = f"{system:<{width}}"
        if has_perplexity:
            row += f"{_cell(scores.get('perplexity')):>12}"
        row += "".join(f"{_interval_cell(scores, m):>24}" for m in ("bleu2", "chrf"))
        row += "".join(f"{_cell(scores.get(key)):>9}" for key, _ in _COLUMNS)
        lines.append(row)
    return "\n".join(lines)
