"""Scores of generated text: BLEU and chrF against references (sacrebleu), and
how well outputs keep their sources' format placeholders."""

from collections import Counter
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


def placeholders(texts: Sequence[str]) -> list[Counter]:
    """The format placeholders (`%s`, `%(name)s`, `{0}`, `%1`, `$VAR`...) of
    each text, as multisets: the tokens of the library's tokenizer
    (`recurrent.data.tokenizers.split_tokens`) that are placeholders, so a
    `%2` inside a URL is no placeholder, and a broken `% s` is none either."""
    import tensorflow as tf

    from recurrent.data.tokenizers import ATOMIC, split_tokens

    if not len(texts):
        return []
    tokens = split_tokens(tf.constant(list(texts), tf.string))[0]
    found = tf.strings.regex_full_match(tokens, ATOMIC["placeholder"])
    rows = tf.ragged.boolean_mask(tokens, found).to_list()
    return [Counter(token.decode() for token in row) for row in rows]


def placeholder_preservation(
    sources: Sequence[str], outputs: Sequence[str]
) -> dict[str, float]:
    """How often an output keeps its source's format placeholders exactly.

    A translated format string whose placeholders differ from the source's
    crashes, or misleads, the program that fills it in, so this counts an
    output as right only if its multiset of placeholders equals the source's
    (order may change, as languages order words differently).

    Returns:
        `{"placeholder_preservation": percentage (0-100) of the outputs that
        keep them, "placeholder_pairs": how many sources hold any}`, over the
        sources that hold placeholders; `{}` if none does.
    """
    if len(sources) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs for {len(sources)} sources")
    wanted, got = placeholders(sources), placeholders(outputs)
    held = [row for row, found in enumerate(wanted) if found]
    if not held:
        return {}
    kept = sum(wanted[row] == got[row] for row in held)
    return {
        "placeholder_preservation": 100.0 * kept / len(held),
        "placeholder_pairs": len(held),
    }
