"""Copying from the source (pointer-generator) and the coverage loss.

The pointer-generator of See et al. (2017) mixes the decoder's vocabulary
distribution with its attention over the source: each example's source words
that the vocabulary lacks get temporary ids V, V + 1, ... (the "extended
vocabulary"), so the model can copy them, and an id >= V fed back into the
decoder becomes the unknown token.

Everything here is `keras.ops`; the word identity of the source positions
comes in as integer "word keys" (e.g. `tf.strings.to_hash_bucket_fast` of the
source words, computed in the input pipeline).
"""

import keras
from keras import ops

EPSILON = 1e-10


@keras.saving.register_keras_serializable(package="recurrent")
class PointerGenerator(keras.layers.Layer):
    """The pointer-generator switch: generate from the vocabulary or copy a source word.

    p_gen = sigmoid(w_c . c_t + w_s . s_t + w_x . x_t + b), with c_t the
    context vector, s_t the decoder state and x_t the decoder input embedding;
    the final distribution over the extended vocabulary (V + n ids) is

        P(w) = p_gen P_vocab(w) + (1 - p_gen) sum_{i: w_i = w} a_i,

    P_vocab = softmax(logits) (0 on the n extra ids) and a the attention
    weights, scattered onto each source position's extended id.

    Padding: a decoder step whose attention row sums to 0 (a source with no
    valid position) has nothing to copy, so its copy part is 0 and the
    distribution is renormalised to the vocabulary part: P = P_vocab (p_gen is
    taken as 1 there). Log-probabilities are log(max(P, epsilon)), never -inf
    or NaN.

    Args:
        epsilon: the floor of the probabilities before the log.
        **kwargs: base `Layer` arguments.

    Call arguments:
        logits: `[batch, vocabulary]` or `[batch, steps, vocabulary]`.
        attention: `[batch, (steps,) source]` weights (sum to 1, or 0 for a
            source with no valid position).
        context: `[batch, (steps,) memory_features]` context vectors.
        state: `[batch, (steps,) units]` decoder states (or attentional
            vectors).
        inputs: `[batch, (steps,) embedding_dim]` decoder input embeddings.
        source_extended_ids: int `[batch, source]`, from
            `extended_source_ids` (padding may hold any id < V + n, e.g. 0:
            its weight is 0).
        extra_count: n, the number of extra ids (a Python int or a scalar
            tensor); None takes max(source_extended_ids) + 1 - V (at least 0).
        log_probabilities: return log P instead of P.
        return_switch: also return p_gen `[batch, (steps,)]`.

    Returns:
        `[batch, (steps,) vocabulary + n]` probabilities (or log-probabilities),
        and p_gen when `return_switch`.

    Example:
        >>> layer = PointerGenerator()
        >>> probabilities = layer(
        ...     keras.ops.zeros((2, 10)), keras.ops.ones((2, 3)) / 3,
        ...     keras.ops.ones((2, 4)), keras.ops.ones((2, 5)),
        ...     keras.ops.ones((2, 6)), keras.ops.array([[1, 10, 11]] * 2), extra_count=2)
        >>> tuple(probabilities.shape)
        (2, 12)

    Reference:
        See, Liu and Manning, "Get To The Point: Summarization with
        Pointer-Generator Networks", ACL 2017, section 2.2.
    """

    def __init__(self, epsilon=EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(
        self,
        logits_shape,
        attention_shape,
        context_shape,
        state_shape,
        inputs_shape,
        source_extended_ids_shape=None,
        extra_count_shape=None,
    ):
        for name, shape in (
            ("context", context_shape),
            ("state", state_shape),
            ("inputs", inputs_shape),
        ):
            kernel = self.add_weight(
                shape=(shape[-1],), initializer="glorot_uniform", name=f"{name}_kernel"
            )
            setattr(self, f"{name}_kernel", kernel)
        self.bias = self.add_weight(shape=(), initializer="zeros", name="bias")

    def switch(self, context, state, inputs):
        """p_gen = sigmoid(w_c . c + w_s . s + w_x . x + b): `[batch, (steps,)]`."""
        total = (
            ops.matmul(context, self.context_kernel)
            + ops.matmul(state, self.state_kernel)
            + ops.matmul(inputs, self.inputs_kernel)
        )
        return ops.sigmoid(total + self.bias)

    def call(
        self,
        logits,
        attention,
        context,
        state,
        inputs,
        source_extended_ids,
        extra_count=None,
        log_probabilities=False,
        return_switch=False,
    ):
        vocabulary = logits.shape[-1]
        if extra_count is None:
            largest = ops.max(ops.cast(source_extended_ids, "int32"))
            extra_count = ops.maximum(largest + 1 - vocabulary, 0)
        p_gen = self.switch(context, state, inputs)
        attention = ops.cast(attention, logits.dtype)
        has_source = ops.sum(attention, axis=-1) > 0.0
        p_gen = ops.where(has_source, p_gen, ops.ones_like(p_gen))
        generated = p_gen[..., None] * ops.softmax(logits, axis=-1)
        copied = scatter_copy(
            (1.0 - p_gen)[..., None] * attention,
            source_extended_ids,
            vocabulary + extra_count,
        )
        extra = ops.shape(copied)[-1] - vocabulary
        zeros = ops.zeros(tuple(ops.shape(generated)[:-1]) + (extra,), logits.dtype)
        probabilities = ops.concatenate([generated, zeros], axis=-1) + copied
        if log_probabilities:
            probabilities = ops.log(ops.clip(probabilities, self.epsilon, 1.0))
        if return_switch:
            return probabilities, p_gen
        return probabilities

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="recurrent")
class SwitchingPointer(PointerGenerator):
    """The switching generator-pointer: a switch chooses to generate or to point.

    Nallapati et al. (2016) keep a generator over the vocabulary and a pointer
    to source positions; a switch P(s_t = 1) = sigmoid(w_c . c_t + w_s . s_t +
    w_x . x_t + b) decides, and it is trained with the observed signal "the
    target word is in the vocabulary". Training maximises

        s_t log P(s_t=1) P_vocab(w_t) + (1 - s_t) log (1 - P(s_t=1)) a_{i_t},

    with i_t the first source position of an out-of-vocabulary target word.
    Over the extended vocabulary this is the log of

        P(w) = p P_vocab(w) for w < V, and (1 - p) a_{first(w)} for w >= V,

    which this layer returns (a sub-distribution: attention on vocabulary
    words and on later repeats of a word gets no mass). With `hard=True`
    (decoding) the switch is a hard choice, as in the paper: only the branch
    with P >= 0.5 keeps its mass. A step whose source holds nothing to point to
    always generates (p taken as 1). The attention weights serve as the
    pointer distribution.

    Arguments and shapes as `PointerGenerator`; `hard` switches the decoding
    rule on, and `return_switch` returns P(s=1) as "p_gen".

    Reference:
        Nallapati, Zhou, dos Santos, Gulcehre and Xiang, "Abstractive Text
        Summarization using Sequence-to-sequence RNNs and Beyond", CoNLL 2016,
        section 2.3.
    """

    def call(
        self,
        logits,
        attention,
        context,
        state,
        inputs,
        source_extended_ids,
        extra_count=None,
        log_probabilities=False,
        return_switch=False,
        hard=False,
    ):
        vocabulary = logits.shape[-1]
        ids = ops.cast(source_extended_ids, "int32")
        if extra_count is None:
            extra_count = ops.maximum(ops.max(ids) + 1 - vocabulary, 0)
        pointable = first_copies(ids, vocabulary)
        attention = ops.cast(attention, logits.dtype)
        if len(attention.shape) == 3:
            pointable = pointable[:, None, :]
        attention = attention * ops.cast(pointable, attention.dtype)
        p = self.switch(context, state, inputs)
        p = ops.where(ops.sum(attention, axis=-1) > 0.0, p, ops.ones_like(p))
        generate, point = p, 1.0 - p
        if hard:
            generating = ops.cast(p >= 0.5, p.dtype)
            generate, point = p * generating, (1.0 - p) * (1.0 - generating)
        generated = generate[..., None] * ops.softmax(logits, axis=-1)
        copied = scatter_copy(
            point[..., None] * attention, ids, vocabulary + extra_count
        )
        extra = ops.shape(copied)[-1] - vocabulary
        zeros = ops.zeros(tuple(ops.shape(generated)[:-1]) + (extra,), logits.dtype)
        probabilities = ops.concatenate([generated, zeros], axis=-1) + copied
        if log_probabilities:
            probabilities = ops.log(ops.clip(probabilities, self.epsilon, 1.0))
        if return_switch:
            return probabilities, p
        return probabilities


def first_copies(source_extended_ids, vocabulary_size):
    """True at the first source position of each out-of-vocabulary word
    (extended id >= V): the positions a `SwitchingPointer` points to."""
    ids = ops.cast(source_extended_ids, "int32")
    positions = ops.arange(ops.shape(ids)[1])
    earlier = positions[None, :] < positions[:, None]  # [i, j]: j before i
    repeated = ops.any(
        ops.logical_and(ops.equal(ids[:, :, None], ids[:, None, :]), earlier[None]),
        axis=-1,
    )
    return ops.logical_and(ids >= vocabulary_size, ops.logical_not(repeated))


OUTPUT_LAYERS = {"pointer": PointerGenerator, "switch": SwitchingPointer}


def scatter_copy(weights, source_ids, size):
    """Adds each source position's weight onto its id: `[batch, (steps,) size]`.

    Args:
        weights: `[batch, source]` or `[batch, steps, source]`.
        source_ids: int `[batch, source]`, every id in [0, size).
        size: the width of the result (an int or a scalar tensor).

    Repeated ids add up (a word that occurs twice gets both weights).
    """
    single_step = len(weights.shape) == 2
    if single_step:
        weights = weights[:, None, :]
    batch, steps, source = (ops.shape(weights)[i] for i in range(3))
    ids = ops.broadcast_to(
        ops.cast(source_ids, "int32")[:, None, :], (batch, steps, source)
    )
    rows = ops.broadcast_to(
        ops.reshape(ops.arange(batch * steps, dtype="int32"), (batch, steps, 1)),
        (batch, steps, source),
    )
    indices = ops.stack([ops.reshape(rows, (-1,)), ops.reshape(ids, (-1,))], axis=-1)
    scattered = ops.scatter(indices, ops.reshape(weights, (-1,)), (batch * steps, size))
    scattered = ops.reshape(scattered, (batch, steps, size))
    return scattered[:, 0] if single_step else scattered


def coverage_loss(weights, coverage, mask=None):
    """The coverage loss of See et al. (2017), eq. 12: sum_i min(a_i, c_i).

    Args:
        weights: attention `[batch, steps, source]` (or `[batch, source]`).
        coverage: the coverage each step was scored with (the sum of the
            previous steps' weights), same shape; see `cumulative_coverage`.
        mask: optional `[batch, steps]` (or `[batch]`) of valid decoder steps.

    Returns:
        The scalar mean over the valid steps of sum_i min(a_ti, c_ti); 0 when
        no step is valid.
    """
    per_step = ops.sum(ops.minimum(weights, ops.cast(coverage, weights.dtype)), -1)
    if mask is None:
        return ops.mean(per_step)
    mask = ops.cast(mask, per_step.dtype)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def cumulative_coverage(weights):
    """c_t = sum_{t' < t} a_t' for `[batch, steps, source]` weights (c_0 = 0)."""
    return ops.cumsum(weights, axis=1) - weights


def extended_source_ids(source_ids, is_oov, vocabulary_size, word_keys):
    """Gives each row's out-of-vocabulary source words the ids V, V + 1, ...

    Within a row, the k-th distinct OOV word (in order of first occurrence)
    gets the id V + k, and every occurrence of that word shares it; other
    positions keep their `source_ids` (padding stays as it is).

    Args:
        source_ids: int `[batch, source]` vocabulary ids (OOV words usually
            hold the unknown id).
        is_oov: bool `[batch, source]`, True where the word is out of the
            vocabulary (and not padding).
        vocabulary_size: V.
        word_keys: int `[batch, source]` word identities (equal keys mean the
            same word), e.g. `tf.strings.to_hash_bucket_fast(words, 2**62)`.

    Returns:
        `(extended_ids, oov_counts)`: int32 `[batch, source]` and the number
        of distinct OOV words of each row, int32 `[batch]` (the
        `PointerGenerator`'s `extra_count` is their maximum).
    """
    is_oov = ops.cast(is_oov, "bool")
    source = ops.shape(source_ids)[1]
    same = ops.logical_and(
        ops.equal(word_keys[:, :, None], word_keys[:, None, :]),
        ops.logical_and(is_oov[:, :, None], is_oov[:, None, :]),
    )
    positions = ops.arange(source)
    earlier = positions[None, :] < positions[:, None]  # [i, j]: j before i
    seen_before = ops.any(ops.logical_and(same, earlier[None]), axis=-1)
    first = ops.logical_and(is_oov, ops.logical_not(seen_before))
    rank = ops.cumsum(ops.cast(first, "int32"), axis=-1) - 1
    # The first occurrence of each position's word: the first j with same[i, j].
    first_position = ops.argmax(ops.cast(same, "int32"), axis=-1)
    word_rank = ops.take_along_axis(rank, first_position, axis=-1)
    extended = ops.where(
        is_oov, vocabulary_size + word_rank, ops.cast(source_ids, "int32")
    )
    return extended, ops.sum(ops.cast(first, "int32"), axis=-1)


def extended_target_ids(
    target_ids, target_keys, source_extended_ids, source_keys, vocabulary_size
):
    """Target ids over the extended vocabulary: an unknown target word that
    the source holds out of vocabulary gets that source word's id V + k.

    Args:
        target_ids: int `[batch, target]` vocabulary ids (unknown words hold
            the unknown id).
        target_keys: int `[batch, target]` word identities of the target.
        source_extended_ids: int `[batch, source]` from `extended_source_ids`.
        source_keys: int `[batch, source]` word identities of the source.
        vocabulary_size: V.

    Returns:
        int32 `[batch, target]`: `target_ids` where the word is in the
        vocabulary or absent from the source's out-of-vocabulary words, else
        its extended id.
    """
    source_extended_ids = ops.cast(source_extended_ids, "int32")
    copyable = ops.logical_and(
        ops.equal(target_keys[:, :, None], source_keys[:, None, :]),
        (source_extended_ids >= vocabulary_size)[:, None, :],
    )
    found = ops.any(copyable, axis=-1)
    position = ops.argmax(ops.cast(copyable, "int32"), axis=-1)
    copied = ops.take_along_axis(source_extended_ids, position, axis=-1)
    return ops.where(found, copied, ops.cast(target_ids, "int32"))


def decoder_input_ids(ids, vocabulary_size, unknown_id=1):
    """Ids fed back into the decoder: extended ids (>= V) become `unknown_id`."""
    return ops.where(ids >= vocabulary_size, ops.cast(unknown_id, ids.dtype), ids)
