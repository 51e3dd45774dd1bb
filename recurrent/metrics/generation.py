"""Scores of generated text against references, computed by sacrebleu."""

from collections.abc import Sequence

import sacrebleu


def bleu_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU (13a tokenization, cased) and chrF, both on a 0-100 scale,
    and BLEU's length ratio: hypothesis tokens over reference tokens (below 1,
    BLEU's brevity penalty applies).

    References:
        Papineni et al., "BLEU: a Method for Automatic Evaluation of Machine
        Translation", ACL 2002. Popović, "chrF: character n-gram F-score for
        automatic MT evaluation", WMT 2015. Post, "A Call for Clarity in
        Reporting BLEU Scores", WMT 2018 (sacrebleu).
    """
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses for {len(references)} references"
        )
    hypotheses, references = list(hypotheses), [list(references)]
    bleu = sacrebleu.corpus_bleu(hypotheses, references)
    return {
        "bleu": float(bleu.score),
        "chrf": float(sacrebleu.corpus_chrf(hypotheses, references).score),
        "length_ratio": bleu.sys_len / max(bleu.ref_len, 1),
    }
