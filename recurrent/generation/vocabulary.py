"""Word vocabularies with named special tokens, on Keras' `TextVectorization`."""

from collections.abc import Mapping, Sequence

import keras
import tensorflow as tf

from recurrent.data.tokenizers import (
    OOV_ID,
    OOV_TOKEN,
    PAD_ID,
    PAD_TOKEN,
    split_punctuation,
)

RESERVED = {"padding": PAD_ID, "unknown": OOV_ID}


@keras.saving.register_keras_serializable(package="recurrent")
class Vocabulary(keras.layers.Layer):
    """Word and punctuation tokens <-> ids: padding 0, unknown 1, the named
    special tokens next (in order), then the words, most frequent first.

    Texts are split by whitespace: split punctuation off first
    (`recurrent.data.tokenizers.split_punctuation`; `fit` does). A layer, so
    an export that tracks it carries its lookup table.

    Args:
        words: the ordinary tokens, most frequent first.
        specials: special tokens by name, e.g. `{"start": "[START]", "end":
            "[END]"}`; "padding" and "unknown" are reserved names.
        **kwargs: base `Layer` arguments.

    Call arguments:
        spaced: `[batch]` strings with tokens separated by spaces.

    Returns:
        `[batch, tokens]` int32 ids, zero-padded.

    Example:
        >>> vocabulary = Vocabulary.fit(["a b a ."], 10, {"start": "[S]"})
        >>> vocabulary.tokens
        ['', '[UNK]', '[S]', 'a', '.', 'b']
        >>> vocabulary.id("start"), vocabulary.size
        (2, 6)
    """

    def __init__(self, words, specials=None, **kwargs):
        super().__init__(**kwargs)
        specials = dict(specials or {})
        clash = set(specials) & set(RESERVED)
        if clash:
            raise ValueError(f"special token names {sorted(clash)} are reserved")
        self._words = list(words)
        self._specials = specials
        self.lookup = keras.layers.TextVectorization(
            standardize=None,
            split="whitespace",
            vocabulary=[*specials.values(), *self._words],
            ragged=True,
            name="lookup",
        )
        self.built = True  # no weights: the lookup table is ready

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        size: int,
        specials: Mapping[str, str] | None = None,
        split=split_punctuation,
        **kwargs,
    ) -> "Vocabulary":
        """At most `size` ids (padding, unknown and `specials` included) from
        the word and punctuation tokens of `texts` (the training split only),
        tokenized by `split` (None: `texts` are space-separated tokens)."""
        specials = dict(specials or {})
        counting = keras.layers.TextVectorization(
            max_tokens=max(size - len(specials), 2),
            standardize=None,
            split="whitespace",
        )
        batches = tf.data.Dataset.from_tensor_slices(list(texts)).batch(512)
        counting.adapt(batches if split is None else batches.map(split))
        reserved = set(specials.values())
        words = [w for w in counting.get_vocabulary()[2:] if w not in reserved]
        return cls(words, specials, **kwargs)

    @property
    def specials(self) -> dict[str, str]:
        return dict(self._specials)

    @property
    def tokens(self) -> list[str]:
        """Every token by id."""
        return [PAD_TOKEN, OOV_TOKEN, *self._specials.values(), *self._words]

    @property
    def size(self) -> int:
        return len(RESERVED) + len(self._specials) + len(self._words)

    def id(self, name: str) -> int:
        """The id of a special token by name ("padding", "unknown" or a special)."""
        if name in RESERVED:
            return RESERVED[name]
        if name not in self._specials:
            raise KeyError(f"no special token {name!r}; have {sorted(self._specials)}")
        return len(RESERVED) + list(self._specials).index(name)

    def token(self, name: str) -> str:
        """The string of a special token by name."""
        return self.tokens[self.id(name)]

    def ragged_ids(self, spaced) -> tf.RaggedTensor:
        """`[batch, (tokens)]` int64 ids of space-separated tokens."""
        return self.lookup(spaced)

    def ids(self, spaced) -> tf.Tensor:
        """`[batch, tokens]` int32 ids of space-separated tokens, zero-padded."""
        return tf.cast(self.lookup(spaced).to_tensor(), tf.int32)

    def call(self, spaced):
        return self.ids(spaced)

    def strings(self, ids) -> tf.Tensor:
        """The tokens of int ids, any shape."""
        return tf.gather(tf.constant(self.tokens), ids)

    def get_config(self):
        config = super().get_config()
        config.update(words=list(self._words), specials=self.specials)
        return config
