"""Words of a pointer-generator's output: ids past the vocabulary are copies.

A copy model (`recurrent.layers.PointerGenerator`) decodes over an extended
vocabulary: ids below V are vocabulary words, and an id V + k is the k-th
out-of-vocabulary word of that example's source (`extended_source_ids`). This
turns decoded ids back into words inside the graph, so an export returns the
copied source words themselves rather than the unknown token (See et al.,
"Get To The Point", ACL 2017).
"""

import tensorflow as tf


def output_words(tokens, vocabulary_words, source_words, source_extended_ids):
    """The word of every decoded id.

    Args:
        tokens: int `[batch, steps]` decoded ids over the extended vocabulary.
        vocabulary_words: string `[V]`, the word of each vocabulary id.
        source_words: string `[batch, source]`, the source as written.
        source_extended_ids: int `[batch, source]` extended ids of the source
            positions (from `extended_source_ids`).

    Returns:
        string `[batch, steps]`: a vocabulary word for an id below V; for an id
        V + k, the source word at the first position holding that id ("" if
        no position holds it).
    """
    tokens = tf.cast(tokens, tf.int32)
    size = tf.shape(vocabulary_words)[0]
    in_vocabulary = tf.gather(vocabulary_words, tf.minimum(tokens, size - 1))
    holds = tf.equal(
        tokens[:, :, None], tf.cast(source_extended_ids, tf.int32)[:, None, :]
    )
    position = tf.argmax(tf.cast(holds, tf.int32), axis=-1, output_type=tf.int32)
    copied = tf.gather(source_words, position, batch_dims=1)
    copied = tf.where(tf.reduce_any(holds, axis=-1), copied, "")
    return tf.where(tokens >= size, copied, in_vocabulary)
