"""Language-model pretraining of a recurrent encoder before fine-tuning.

As in ULMFiT (Howard and Ruder 2018, "Universal Language Model Fine-tuning for
Text Classification"), the encoder first learns to predict words on the task's
own training texts, then the whole model is fine-tuned on the labels. A
forward encoder predicts each next word; a bidirectional one (concat, one
layer) predicts the next word from its forward half and the previous word
from its backward half, the pair of language models ULMFiT trains separately.
The word heads are dropped after pretraining; the embedding and encoder keep
what they learned.
"""

import keras
import numpy as np
import tensorflow as tf

from recurrent.data.batching import length_bucketed
from recurrent.errors import UserInputError
from recurrent.layers.recurrent import RecurrentEncoder


def check_pretrainable(bidirectional: bool, num_layers: int, merge_mode: str) -> None:
    """Raises a `UserInputError` for a `RecurrentEncoder` whose states would see
    the word they predict: a bidirectional stack of several layers, or
    directions merged other than by concat."""
    if bidirectional and num_layers > 1:
        raise UserInputError(
            "language-model pretraining of a bidirectional encoder needs one layer "
            "(a second layer's forward states see the first layer's backward ones); "
            "--set layers=1, or bidirectional=false"
        )
    if bidirectional and merge_mode != "concat":
        raise UserInputError(
            "language-model pretraining needs the two directions kept apart; "
            "--set merge_mode=concat"
        )


def shifted_targets(tokens: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The next and the previous word of every position of `[batch, time]`
    ids, with 0 (padding, weighted 0) where there is none."""
    pad = tf.zeros_like(tokens[:, :1])
    following = tf.concat([tokens[:, 1:], pad], axis=1)
    preceding = tf.concat([pad, tokens[:, :-1]], axis=1)
    return following, preceding


def language_model(
    embedding: keras.layers.Embedding,
    encoder: RecurrentEncoder,
    vocabulary_size: int,
    dropout: float = 0.0,
) -> keras.Model:
    """A word-predicting model over the given (shared, not copied) layers:
    logits of the next word, and of the previous one for a bidirectional
    encoder."""
    check_pretrainable(encoder.bidirectional, encoder.num_layers, encoder.merge_mode)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    sequence, _ = encoder(keras.layers.Dropout(dropout)(embedding(tokens)))
    sequence = keras.layers.Dropout(dropout)(sequence)
    if encoder.bidirectional:
        halves = [sequence[..., : encoder.units], sequence[..., encoder.units :]]
        names = ["next_word", "previous_word"]
    else:
        halves, names = [sequence], ["next_word"]
    logits = [
        keras.layers.Dense(vocabulary_size, name=name)(half)
        for half, name in zip(halves, names, strict=True)
    ]
    return keras.Model(tokens, logits, name="language_model")


def pretrain_language_model(
    embedding: keras.layers.Embedding,
    encoder: RecurrentEncoder,
    vocabulary_size: int,
    train_ids: tf.RaggedTensor,
    validation_ids: tf.RaggedTensor,
    epochs: int,
    batch_size: int,
    optimizer: keras.optimizers.Optimizer,
    dropout: float = 0.0,
    seed: int | None = None,
    max_batches: int = 0,
) -> dict[str, list[float]]:
    """Trains `embedding` and `encoder` as a language model on `train_ids`.

    Args:
        embedding, encoder: the task model's layers (updated in place).
        vocabulary_size: words the heads predict (the embedding's input size).
        train_ids, validation_ids: `[texts, (tokens)]` ids without padding.
        epochs: passes over `train_ids`.
        optimizer: a fresh optimizer for the language model.
        dropout: on the embeddings and the encoder outputs.
        max_batches: if positive, at most this many batches per epoch.

    Returns:
        The Keras history: loss and val_loss (mean cross-entropy per word) by epoch.
    """
    model = language_model(embedding, encoder, vocabulary_size, dropout)
    bidirectional = len(model.outputs) == 2

    def with_targets(dataset):
        def targets(tokens, _):
            tokens = tf.cast(tokens, tf.int32)
            following, preceding = shifted_targets(tokens)
            wanted = (following, preceding) if bidirectional else (following,)
            weights = tuple(tf.cast(word > 0, tf.float32) for word in wanted)
            return tokens, wanted, weights

        return dataset.map(targets)

    def batches(ids, shuffle):
        labels = np.zeros(int(ids.nrows()), "int32")
        return with_targets(
            length_bucketed(ids, labels, batch_size, shuffle, seed, max_batches)
        )

    model.compile(
        optimizer=optimizer,
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True)]
        * len(model.outputs),
    )
    print(
        f"pretraining the encoder as a language model for {epochs} "
        f"epoch{'s' if epochs != 1 else ''}"
    )
    history = model.fit(
        batches(train_ids, shuffle=True),
        validation_data=batches(validation_ids, shuffle=False),
        epochs=epochs,
        shuffle=False,  # the dataset reshuffles itself
        verbose=2,
    )
    return history.history
