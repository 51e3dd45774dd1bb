"""SummaRuNNer's sentence scorer: whether each sentence belongs in the summary.

For sentence j with state h_j, in a document with vector
d = tanh(W_d mean_j(h_j) + b_d), the logit is

    W_c h_j                     content: is the sentence informative
  + h_j^T W_s d                 salience: is it central to the document
  - h_j^T W_r tanh(s_j)         novelty: is it new against the summary so far
  + W_ap[j]                     absolute position (a learned scalar per index)
  + W_rp[bucket(j / n)]         relative position (a learned scalar per tenth)
  + b

where s_j = sum_{i<j} h_i P(y_i = 1) is the running soft summary, built
sentence by sentence with the probabilities the model gives. Each term can be
switched off, for ablations.

Reference:
    Nallapati, Zhai and Zhou, "SummaRuNNer: A Recurrent Neural Network based
    Sequence Model for Extractive Summarization of Documents", AAAI 2017.
"""

import keras
from keras import ops

TERMS = ("content", "salience", "novelty", "position", "relative_position")


@keras.saving.register_keras_serializable(package="recurrent")
class NoveltyCell(keras.layers.Layer):
    """One step of SummaRuNNer's novelty term, for `keras.layers.RNN`.

    The input of a step is a sentence's state h_j with its logit so far
    appended; the state is the running soft summary s_j. The step returns
    the logit minus h_j^T W_r tanh(s_j), and adds h_j weighted by the
    sentence's probability to the summary.

    Args:
        width: size of the sentence states.
        **kwargs: base `Layer` arguments.
    """

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.state_size = width
        self.output_size = 1

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(self.width, self.width), initializer="glorot_uniform", name="kernel"
        )

    def call(self, inputs, states):
        state, logit = inputs[:, :-1], inputs[:, -1]
        (summary,) = states
        redundancy = ops.sum(
            state * ops.matmul(ops.tanh(summary), ops.transpose(self.kernel)), axis=-1
        )
        logit = logit - redundancy
        summary = summary + ops.sigmoid(logit)[:, None] * state
        return logit[:, None], [summary]

    def get_config(self):
        return super().get_config() | {"width": self.width}


@keras.saving.register_keras_serializable(package="recurrent")
class SentenceExtractor(keras.layers.Layer):
    """Per-sentence extraction logits from sentence states (SummaRuNNer).

    Args:
        terms: the score terms that are on, a subset of `TERMS`.
        max_positions: absolute positions with their own weight; later
            sentences share the last one.
        position_buckets: segments of the document for the relative position.
        **kwargs: base `Layer` arguments.

    Call arguments:
        states: float tensor `[batch, sentences, width]`.
        mask: optional boolean `[batch, sentences]`, False for padding.

    Returns:
        Float logits `[batch, sentences]`; padding sentences get a very
        negative logit.
    """

    def __init__(self, terms=TERMS, max_positions=100, position_buckets=10, **kwargs):
        super().__init__(**kwargs)
        unknown = sorted(set(terms) - set(TERMS))
        if unknown:
            raise ValueError(f"unknown score terms {unknown}; choose from {TERMS}")
        self.terms = tuple(term for term in TERMS if term in terms)
        self.max_positions = max_positions
        self.position_buckets = position_buckets
        self.supports_masking = True

    def build(self, input_shape):
        width = input_shape[-1]

        def matrix(name):
            return self.add_weight(
                shape=(width, width), initializer="glorot_uniform", name=name
            )

        if {"salience", "novelty"} & set(self.terms):
            self.document_kernel = matrix("document_kernel")
            self.document_bias = self.add_weight(
                shape=(width,), initializer="zeros", name="document_bias"
            )
        if "content" in self.terms:
            self.content = self.add_weight(
                shape=(width,), initializer="glorot_uniform", name="content"
            )
        if "salience" in self.terms:
            self.salience = matrix("salience")
        if "novelty" in self.terms:
            self.novelty_steps = keras.layers.RNN(
                NoveltyCell(width), return_sequences=True, name="novelty"
            )
            self.novelty_steps.build((None, None, width + 1))
        if "position" in self.terms:
            self.position = self.add_weight(
                shape=(self.max_positions,), initializer="zeros", name="position"
            )
        if "relative_position" in self.terms:
            self.relative_position = self.add_weight(
                shape=(self.position_buckets,),
                initializer="zeros",
                name="relative_position",
            )
        self.bias = self.add_weight(shape=(), initializer="zeros", name="bias")

    def call(self, states, mask=None):
        shape = ops.shape(states)
        if mask is None:
            mask = ops.ones(shape[:2], dtype="bool")
        valid = ops.cast(mask, states.dtype)
        count = ops.maximum(ops.sum(valid, axis=1, keepdims=True), 1.0)
        logits = ops.zeros_like(valid) + self.bias
        if "content" in self.terms:
            logits += ops.matmul(states, self.content)
        if {"salience", "novelty"} & set(self.terms):
            mean = ops.sum(states * valid[..., None], axis=1) / count
            document = ops.tanh(
                ops.matmul(mean, self.document_kernel) + self.document_bias
            )
        if "salience" in self.terms:
            projected = ops.matmul(document, ops.transpose(self.salience))
            logits += ops.sum(states * projected[:, None, :], axis=-1)
        index = ops.arange(shape[1], dtype="int32")[None, :]
        if "position" in self.terms:
            absolute = ops.minimum(index, self.max_positions - 1)
            logits += ops.take(self.position, absolute)
        if "relative_position" in self.terms:
            share = ops.cast(index, states.dtype) / count
            bucket = ops.cast(ops.floor(share * self.position_buckets), "int32")
            bucket = ops.clip(bucket, 0, self.position_buckets - 1)
            logits += ops.take(self.relative_position, bucket)
        if "novelty" in self.terms:
            logits = self._subtract_novelty(states, logits, valid)
        return ops.where(mask, logits, ops.full_like(logits, -1e9))

    def _subtract_novelty(self, states, logits, valid):
        """Steps through the sentences, keeping the running soft summary."""
        steps = ops.concatenate([states, logits[..., None]], axis=-1)
        return self.novelty_steps(steps, mask=valid > 0)[..., 0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            terms=list(self.terms),
            max_positions=self.max_positions,
            position_buckets=self.position_buckets,
        )
        return config
