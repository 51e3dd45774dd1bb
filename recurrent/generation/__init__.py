"""Text seq2seq plumbing shared by every task that writes text.

- `vocabulary`: word vocabularies with named special tokens (padding 0,
  unknown 1, then e.g. start and end).
- `datasets`: teacher-forcing batches, bucketed by length.
- `copying`: the words of a pointer-generator's extended-vocabulary ids.
- `placeholders`: atomic spans (format placeholders, URLs, numbers...) as
  numbered stand-ins, and unknown output words replaced by the source word
  attended to most (Luong et al. 2015).
- `serving`: string-in/string-out serving functions around a `Seq2Seq`
  (tokenize, encode, decode with any algorithm of `recurrent.decoding`,
  detokenize), with the attention weights on request.
"""

from recurrent.generation.copying import output_words
from recurrent.generation.datasets import (
    bucket_boundaries,
    compile_for_teacher_forcing,
    keep_short_pairs,
    short_pairs,
    spaced_pairs,
    teacher_forcing_dataset,
    texts_dataset,
)
from recurrent.generation.serving import ALGORITHMS, TextGenerator
from recurrent.generation.vocabulary import Vocabulary

__all__ = [
    "ALGORITHMS",
    "TextGenerator",
    "Vocabulary",
    "bucket_boundaries",
    "compile_for_teacher_forcing",
    "keep_short_pairs",
    "output_words",
    "short_pairs",
    "spaced_pairs",
    "teacher_forcing_dataset",
    "texts_dataset",
]
