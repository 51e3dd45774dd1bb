"""Sentence splitting by rules, in plain TensorFlow string ops.

The same graph splits training documents and the raw strings an export
receives, so a model sees the same sentences in both, and an export needs no
library but TensorFlow. The rules are those of rule-based splitters such as
pysbd (Sadvilkar and Neumann 2020), kept small:

- a line break (a paragraph) always ends a sentence;
- `.`, `!` or `?` (possibly repeated, then closing quotes or brackets) ends a
  sentence when white space and a capital letter, a digit, or an opening
  quote or bracket follow;
- except after a common abbreviation (`Mr.`, `Dr.`, `e.g.`, `Jan.`...) or a
  single capital letter (initials, `U.S.`).

Decimals (`3.5`), dotted names (`file.txt`) and a lower-case word after a
full stop do not split.
"""

import tensorflow as tf

# fmt: off
ABBREVIATIONS = (
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "Mt", "Ft", "Gen", "Gov",
    "Sen", "Rep", "Col", "Capt", "Lt", "Sgt", "Rev", "Inc", "Ltd", "Co", "Corp",
    "Bros", "vs", "etc", "approx", "No", "Nos", "Vol", "pp", "Fig", "Jan", "Feb",
    "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
)
# fmt: on
# A private-use character stands for a protected full stop while splitting.
_PROTECTED = "\ue000"
_CLOSERS = "\"'”’)\\]»"
_OPENERS = "\"'“‘(\\[«¿¡"


def split_sentences(texts) -> tf.RaggedTensor:
    """`[batch]` strings -> `[batch, (sentences)]` strings, each stripped;
    a blank text has no sentence."""
    texts = tf.convert_to_tensor(texts, tf.string)
    words = "|".join(ABBREVIATIONS)
    text = tf.strings.regex_replace(texts, r"\r\n?", "\n")
    # Protect abbreviations, "e.g."-style ones and single capital initials.
    text = tf.strings.regex_replace(text, rf"\b({words})\.", rf"\1{_PROTECTED}")
    text = tf.strings.regex_replace(
        text, r"\b([a-zA-Z])\.([a-zA-Z])\.", rf"\1{_PROTECTED}\2{_PROTECTED}"
    )
    text = tf.strings.regex_replace(text, r"\b(\p{Lu})\.", rf"\1{_PROTECTED}")
    text = tf.strings.regex_replace(
        text,
        rf"([.!?]+[{_CLOSERS}]*)[ \t]+([{_OPENERS}]*[\p{{Lu}}\p{{Nd}}])",
        "\\1\n\\2",  # a real line break between the groups
    )
    text = tf.strings.regex_replace(text, _PROTECTED, ".")
    pieces = tf.strings.split(text, "\n")
    stripped = tf.strings.strip(pieces)
    return tf.ragged.boolean_mask(stripped, stripped != "")


def sentences(texts) -> list[list[str]]:
    """`split_sentences` of a Python list of strings, as lists of str."""
    return [
        [sentence.decode("utf-8") for sentence in row]
        for row in split_sentences(list(texts)).to_list()
    ]
