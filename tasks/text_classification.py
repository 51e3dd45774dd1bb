"""Text classification: embedded tokens -> recurrent encoder -> pooling -> softmax.

Variants by config: the cell (simple | lstm | gru), bidirectional or not, stacked
layers, a convolutional front end (C-LSTM, Zhou et al. 2015), a disconnected
RNN encoder (DRNN, Wang 2018), and the pooling (last state, max, mean, or
attention as in Yang et al. 2016). The baseline is TF-IDF (word 1-2 grams,
sublinear tf) with logistic regression, fitted on the same training split and
scored on the same test split.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from recurrent.baselines.classification import tfidf_logistic_regression
from recurrent.data.batching import kept_length, length_bucketed, ragged_ids
from recurrent.data.sources import fingerprint, load_splits
from recurrent.data.tokenizers import (
    fit_vocabulary,
    known_token_counts,
    word_vectorizer,
)
from recurrent.data.word_vectors import read_word_vectors
from recurrent.errors import UserInputError
from recurrent.layers import (
    CELLS,
    MERGE_MODES,
    AttentionPooling,
    ConvFeatures,
    DisconnectedRNN,
    RecurrentEncoder,
    SequencePooling,
)
from recurrent.metrics.classification import classification_scores, format_confusion
from recurrent.metrics.report import side_by_side
from recurrent.models.pretraining import (
    check_pretrainable,
    pretrain_language_model,
)
from tasks import TASKS
from tasks.base import (
    Evaluation,
    Prepared,
    Task,
    TaskConfig,
    inherited_or,
    optimizer,
    read_lines,
    text_inputs,
)

FRONT_ENDS = ("none", "conv")
ENCODERS = ("rnn", "disconnected")
POOLINGS = ("last", "max", "mean", "attention")


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Settings of text classification (see `TaskConfig` for the shared ones).

    Attributes:
        text_column: column (or TFDS feature) holding the text.
        label_column: column (or TFDS feature) holding the label.
        max_tokens: vocabulary size, padding and out-of-vocabulary ids included.
        sequence_length: most tokens kept from the start of each text.
        length_percentile: tokens kept are this percentile of the training
            texts' lengths, at most `sequence_length`.
        embedding_dim: size of the word embeddings.
        embeddings: a word2vec or GloVe text file whose vectors start the
            embeddings ("" learns them from scratch).
        freeze_embeddings: keep the file's vectors fixed while training.
        front_end: "none" or "conv" (C-LSTM's convolutional n-gram features).
        conv_filters: filters of the conv front end.
        conv_kernel_size: window of the conv front end.
        encoder: "rnn" (RecurrentEncoder) or "disconnected" (DRNN).
        cell: "simple", "lstm" or "gru".
        bidirectional: read the text in both directions (rnn encoder).
        merge_mode: how directions combine: "concat", "sum", "ave", "mul".
        layers: stacked recurrent layers (rnn encoder).
        units: hidden size of each direction.
        window: tokens each DRNN state sees.
        pooling: "last" (final state), "max", "mean" or "attention".
        dropout: dropout on embeddings and on the pooled vector.
        embedding_dropout: share of word positions whose whole embedding is
            dropped in training (as in Merity et al. 2018 and Gal and
            Ghahramani 2016, per position rather than per vocabulary word).
        recurrent_dropout: dropout on the recurrent state (rnn encoder).
        pretrain_epochs: epochs of language-model pretraining of the embedding
            and encoder on the training texts before training on the labels
            (ULMFiT, Howard and Ruder 2018); 0 skips it.
        pretrain_text: a UTF-8 text file, one text per line, that the language
            model reads besides the training texts (in-domain text without
            labels); "" for none.
    """

    epochs: int = 12
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 4
    text_column: str = "text"
    label_column: str = "label"
    max_tokens: int = 15000
    sequence_length: int = 400
    length_percentile: float = 99.0
    embedding_dim: int = 128
    embeddings: str = ""
    freeze_embeddings: bool = False
    front_end: str = "none"
    conv_filters: int = 128
    conv_kernel_size: int = 3
    encoder: str = "rnn"
    cell: str = "gru"
    bidirectional: bool = True
    merge_mode: str = "concat"
    layers: int = 1
    units: int = 64
    window: int = 8
    pooling: str = "mean"
    dropout: float = 0.5
    embedding_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    pretrain_epochs: int = 0
    pretrain_text: str = ""

    TINY = {
        "max_tokens": 2000,
        "sequence_length": 48,
        "embedding_dim": 16,
        "units": 8,
        "conv_filters": 8,
    }

    def __post_init__(self):
        super().__post_init__()
        self.at_least(
            max_tokens=3,
            sequence_length=1,
            embedding_dim=1,
            conv_filters=1,
            conv_kernel_size=1,
            units=1,
            layers=1,
            window=1,
            pretrain_epochs=0,
        )
        self.require(
            "length_percentile", 0 < self.length_percentile <= 100, "in (0, 100]"
        )
        self.in_unit_interval("dropout", "embedding_dropout", "recurrent_dropout")
        self.choose(
            front_end=FRONT_ENDS,
            encoder=ENCODERS,
            pooling=POOLINGS,
            cell=CELLS,
            merge_mode=MERGE_MODES,
        )
        if self.encoder == "disconnected" and self.layers != 1:
            raise UserInputError(
                "the disconnected encoder has one layer; --set layers=1"
            )
        if self.pretrain_epochs:
            if self.encoder != "rnn" or self.front_end != "none":
                raise UserInputError(
                    "language-model pretraining needs the rnn encoder and no conv "
                    "front end (their states see the words they would predict); "
                    "--set encoder=rnn front_end=none, or pretrain_epochs=0"
                )
            check_pretrainable(self.bidirectional, self.layers, self.merge_mode)
        elif self.pretrain_text:
            raise UserInputError(
                "pretrain_text is read by language-model pretraining; "
                "--set pretrain_epochs=N (N >= 1)"
            )


class TextClassification(Task):
    name = "text_classification"
    summary = TASKS["text_classification"].summary
    default_data = "bbc_news"
    Config = Config
    input_help = TASKS["text_classification"].input_help
    model_assets = ("labels",)
    inherited_assets = ("vectorizer", "labels")

    def prepare(self, config: Config, data: str, inherited=None) -> Prepared:
        splits = load_splits(
            data,
            {"text": config.text_column, "label": config.label_column},
            key="text",
            hint="Name the columns with --set text_column=NAME label_column=NAME.",
        )
        splits = {
            name: frame.astype({"text": str, "label": str})
            for name, frame in splits.items()
        }
        found = sorted(splits["train"]["label"].unique())
        labels = inherited_or(inherited, "labels", lambda: found)
        unknown = sorted(set(found) - set(labels))
        if unknown:
            raise UserInputError(
                f"{data} has labels the run it starts from was not trained on: "
                f"{unknown[:10]}; keep only rows labelled {labels}, or train "
                "without --init-from"
            )
        if len(labels) < 2:
            raise UserInputError(
                f"{data} has fewer than two labels in its training split"
            )
        for split in ("validation", "test"):
            frame = splits[split]
            known = frame["label"].isin(labels)
            if not known.all():
                print(
                    f"{split}: dropping {int((~known).sum())} rows whose label is not in train"
                )
            splits[split] = frame[known].reset_index(drop=True)
            if splits[split].empty:
                raise UserInputError(
                    f"{data} has no {split} rows; add rows or a 'split' column"
                )
        if not inherited:
            print(f"building the vocabulary from {len(splits['train'])} training texts")
        vectorizer = inherited_or(
            inherited,
            "vectorizer",
            lambda: fit_vocabulary(
                word_vectorizer(config.max_tokens, None), splits["train"]["text"]
            ),
        )
        index = {label: i for i, label in enumerate(labels)}
        ids = {
            name: ragged_ids(vectorizer, frame["text"], config.sequence_length)
            for name, frame in splits.items()
        }
        length = kept_length(
            ids["train"].row_lengths().numpy(),
            config.length_percentile,
            config.sequence_length,
        )
        print(
            f"keeping the first {length} tokens of each text: the "
            f"{config.length_percentile:g}th percentile of the training lengths, "
            f"at most sequence_length={config.sequence_length}"
        )
        ids = {name: tokens[:, :length] for name, tokens in ids.items()}

        def dataset(name, shuffle: bool) -> tf.data.Dataset:
            targets = np.array(
                [index[label] for label in splits[name]["label"]], dtype="int32"
            )
            return length_bucketed(
                ids[name],
                targets,
                config.batch_size,
                shuffle,
                config.seed,
                config.max_batches,
            )

        return Prepared(
            train=dataset("train", shuffle=True),
            validation=dataset("validation", shuffle=False),
            splits=splits,
            fingerprint=fingerprint(splits),
            assets={
                "vectorizer": vectorizer,
                "labels": labels,
                "tokens_kept": length,
            },
        )

    def build_model(self, config: Config, prepared: Prepared) -> keras.Model:
        vectorizer = prepared.assets["vectorizer"]
        tokens = keras.Input((None,), dtype="int32", name="tokens")
        embedding = keras.layers.Embedding(
            vectorizer.vocabulary_size(),
            config.embedding_dim,
            mask_zero=True,
            trainable=not (config.embeddings and config.freeze_embeddings),
            name="embedding",
        )
        x = embedding(tokens)
        # Whole word vectors dropped at random positions, then single features.
        x = keras.layers.Dropout(config.embedding_dropout, noise_shape=(None, None, 1))(
            x
        )
        x = keras.layers.Dropout(config.dropout)(x)
        if config.front_end == "conv":
            x = ConvFeatures(config.conv_filters, (config.conv_kernel_size,))(x)
        if config.encoder == "rnn":
            sequence, states = RecurrentEncoder(
                config.units,
                cell=config.cell,
                num_layers=config.layers,
                bidirectional=config.bidirectional,
                merge_mode=config.merge_mode,
                recurrent_dropout=config.recurrent_dropout,
                name="encoder",
            )(x)
        else:
            sequence = DisconnectedRNN(
                config.units, window=config.window, cell=config.cell
            )(x)
            states = None
        if config.pooling == "attention":
            pooled = AttentionPooling(config.units)(sequence)
        elif config.pooling == "last" and states is not None:
            pooled = states[0]
        else:
            pooled = SequencePooling(config.pooling)(sequence)
        pooled = keras.layers.Dropout(config.dropout)(pooled)
        probabilities = keras.layers.Dense(
            len(prepared.assets["labels"]), activation="softmax", name="probabilities"
        )(pooled)
        model = keras.Model(tokens, probabilities, name="text_classifier")
        if config.embeddings:
            vectors = read_word_vectors(
                config.embeddings,
                vectorizer.get_vocabulary(),
                config.embedding_dim,
                seed=config.seed,
            )
            print(vectors.summary(config.embeddings))
            embedding.set_weights([vectors.weights])
        model.compile(
            optimizer=optimizer(config, prepared.train),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def pretrain(self, model, config: Config, prepared: Prepared) -> None:
        if not config.pretrain_epochs:
            return
        vectorizer = prepared.assets["vectorizer"]
        ids = {
            name: ragged_ids(
                vectorizer,
                prepared.splits[name]["text"],
                prepared.assets["tokens_kept"],
            )
            for name in ("train", "validation")
        }
        texts = ids["train"]
        if config.pretrain_text:
            lines = [line for line in read_lines(config.pretrain_text) if line.strip()]
            print(f"adding {len(lines)} lines of {config.pretrain_text} to pretraining")
            if lines:
                extra = ragged_ids(vectorizer, lines, config.sequence_length)
                texts = tf.concat([texts, tf.cast(extra, texts.dtype)], axis=0)
        pretrain_language_model(
            model.get_layer("embedding"),
            model.get_layer("encoder"),
            vectorizer.vocabulary_size(),
            texts,
            ids["validation"],
            epochs=config.pretrain_epochs,
            batch_size=config.batch_size,
            # A constant rate: the schedule counts the steps of label training.
            optimizer=optimizer(dataclasses.replace(config, schedule="constant")),
            dropout=config.dropout,
            seed=config.seed,
            max_batches=config.max_batches,
        )

    def endpoints(self, model, prepared):
        vectorizer = prepared.assets["vectorizer"]
        names = tf.constant(prepared.assets["labels"])
        length = prepared.assets["tokens_kept"]

        def serve(texts):
            """The label and class probabilities of each text, and `known_tokens`:
            how many of its words (of the first `tokens_kept`) are in the
            vocabulary. With 0 (an empty text, or only unknown words) the model
            read nothing, and the label is its guess for no evidence at all.
            """
            # Padded to the longest text of the batch: short texts cost little.
            tokens = vectorizer(texts)[:, :length]
            tokens = tf.pad(
                tokens, [[0, 0], [0, tf.maximum(1 - tf.shape(tokens)[1], 0)]]
            )
            probabilities = model(tokens, training=False)
            return {
                "label": tf.gather(names, tf.argmax(probabilities, axis=-1)),
                "probabilities": probabilities,
                "known_tokens": known_token_counts(tokens),
            }

        def classes():
            return {"classes": names}

        return {
            "serve": (serve, [tf.TensorSpec([None], tf.string, name="texts")]),
            "classes": (classes, []),
        }

    def evaluate(self, predict, prepared, config) -> Evaluation:
        train, test = prepared.splits["train"], prepared.splits["test"]
        labels = prepared.assets["labels"]
        outputs = predict(test["text"].tolist())
        predicted = [label.decode("utf-8") for label in outputs["label"]]
        metrics = classification_scores(test["label"], predicted, labels)
        print("fitting the baseline: TF-IDF + logistic regression")
        baseline = tfidf_logistic_regression().fit(train["text"], train["label"])
        baselines = {
            "tfidf_logreg": classification_scores(
                test["label"], baseline.predict(test["text"]), labels
            )
        }
        report = "\n\n".join(
            [
                f"test split: {len(test)} texts, {len(labels)} labels",
                side_by_side(
                    {"model": metrics, "tfidf_logreg": baselines["tfidf_logreg"]}
                ),
                "model confusion matrix\n"
                + format_confusion(metrics["confusion_matrix"], labels),
                "tfidf_logreg confusion matrix\n"
                + format_confusion(
                    baselines["tfidf_logreg"]["confusion_matrix"], labels
                ),
            ]
        )
        return Evaluation(metrics=metrics, baselines=baselines, report=report)

    def read_inputs(
        self, values: Sequence[str], input_file=None, metadata=None
    ) -> list[str]:
        return text_inputs(
            values,
            input_file,
            "nothing to classify: pass one or more texts, or --input FILE with one "
            "per line",
        )

    def format_predictions(self, inputs, outputs: Mapping[str, np.ndarray]) -> str:
        lines = []
        # Exports from before `known_tokens` do not count them.
        known = outputs.get("known_tokens", [None] * len(inputs))
        for text, label, probabilities, count in zip(
            inputs, outputs["label"], outputs["probabilities"], known, strict=True
        ):
            snippet = " ".join(text.split())[:70]
            note = "  (no known words)" if count == 0 else ""
            lines.append(
                f"{label.decode('utf-8'):>14}  p={probabilities.max():.3f}  "
                f"{snippet}{note}"
            )
        return "\n".join(lines)

    def samples(self, predict, prepared, count: int = 5) -> str:
        shown = prepared.splits["validation"].head(count)
        outputs = predict(shown["text"].tolist())
        rows = ["| text | truth | predicted | p |", "|---|---|---|---|"]
        for text, truth, label, probabilities in zip(
            shown["text"],
            shown["label"],
            outputs["label"],
            outputs["probabilities"],
            strict=True,
        ):
            snippet = " ".join(text.split())[:120].replace("|", "/")
            rows.append(
                f"| {snippet} | {truth} | {label.decode('utf-8')} | {probabilities.max():.3f} |"
            )
        return "\n".join(rows)

    def sample_inputs(self, prepared, count: int = 3) -> list[str]:
        return prepared.splits["test"]["text"].head(count).tolist()


TASK = TextClassification()
